/* C ABI between the Rust host and Verilated models.
 *
 * Every Verilated top gets a generated shim (build.rs) that fills one
 * pam_vmodel_vtable. The host finds ports by name once, then reads and writes
 * them through raw pointers, so the per-cycle cost is one indirect call per
 * eval and no marshalling. */
#ifndef PAM_VMODEL_H
#define PAM_VMODEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum pam_port_dir { PAM_PORT_IN = 0, PAM_PORT_OUT = 1, PAM_PORT_INOUT = 2 };

/* One top-level port. Storage follows Verilator: width <= 8 is a uint8_t,
 * <= 16 a uint16_t, <= 32 a uint32_t, <= 64 a uint64_t, wider an array of
 * ceil(width / 32) uint32_t words, least significant word first. */
typedef struct pam_port {
    const char *name;
    void *ptr;
    uint32_t width;
    uint32_t dir;
} pam_port;

typedef struct pam_vmodel_vtable {
    const char *name;
    /* Creates a model with its own VerilatedContext; NULL on failure. Initial
     * values follow Verilator's +verilator+rand+reset+<rand_reset> and
     * +verilator+seed+<rand_seed>: rand_reset 0 gives zeros, 2 values drawn from
     * rand_seed (the models are built with --x-initial unique). */
    void *(*create)(int rand_reset, int rand_seed);
    void (*destroy)(void *model);
    void (*eval)(void *model);
    /* Port table of this instance; *count receives its length. */
    const pam_port *(*ports)(void *model, size_t *count);
    /* Opens an FST dump; returns 0 on success. */
    int (*trace_open)(void *model, const char *path, int levels);
    void (*trace_dump)(void *model, uint64_t time);
    void (*trace_flush)(void *model);
    void (*trace_close)(void *model);
    /* Writes the model's cover point counts (Verilator's coverage.dat format) to path; the
     * directory must exist (Verilator aborts the process when it cannot write). */
    int (*coverage_write)(void *model, const char *path);
} pam_vmodel_vtable;

/* Stimulus of the plain C++ PU testbench used as the speed reference. */
typedef struct pam_pu_bench_stimulus {
    uint32_t lanes;
    uint32_t dim;
    uint32_t tokens;
    const uint16_t *query; /* ceil(dim / lanes) * lanes elements, zero padded */
    const uint16_t *kv;    /* per token: its k beats then its v beats, zero padded */
    uint64_t repeats;
} pam_pu_bench_stimulus;

typedef struct pam_pu_bench_result {
    uint64_t cycles;
    double seconds;
    uint32_t out_m; /* running max of the last run, to show the work happened */
} pam_pu_bench_result;

#ifdef __cplusplus
}
#endif

#endif
