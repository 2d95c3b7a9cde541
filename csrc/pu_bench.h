// Plain C++ Verilator testbench for pam_pu: the speed reference for the Rust host.
//
// It drives exactly the protocol of src/rtl/pu.rs (LOAD_Q, RUN n, drain the partial) with the
// same stimulus, the ports written directly on the model, no FFI and no tracing.
#ifndef PAM_PU_BENCH_H
#define PAM_PU_BENCH_H

#include "pam_vmodel.h"
#include "verilated.h"
#include <chrono>
#include <cstdint>

namespace pam_bench {
inline void put_beat(QData &port, const uint16_t *e, uint32_t lanes) {
    QData v = 0;
    for (uint32_t i = 0; i < lanes; i++) v |= QData(e[i]) << (16 * i);
    port = v;
}
template <std::size_t N>
inline void put_beat(VlWide<N> &port, const uint16_t *e, uint32_t lanes) {
    for (uint32_t w = 0; w < N; w++) port[w] = 0;
    for (uint32_t i = 0; i < lanes; i++) port[i / 2] |= uint32_t(e[i]) << (16 * (i % 2));
}
}  // namespace pam_bench

template <class M>
int pam_pu_bench(const pam_pu_bench_stimulus *s, pam_pu_bench_result *r) {
    VerilatedContext ctx;
    M top(&ctx, "TOP");
    uint64_t cycles = 0;
    auto tick = [&]() {
        top.clk_i = 0;
        top.eval();
        top.clk_i = 1;
        top.eval();
        cycles++;
    };
    const uint32_t beats = (s->dim + s->lanes - 1) / s->lanes;
    top.rst_ni = 0;
    tick();
    tick();
    top.rst_ni = 1;
    cycles = 0;  // as the Rust host, count from the end of reset
    top.cfg_dim_i = s->dim;
    top.out_ready_i = 1;

    // Sends a command, then streams `n` beats; collects output beats when `drain`.
    auto command = [&](uint32_t op, uint32_t ntok, const uint16_t *data, uint64_t n, bool drain) {
        top.cmd_valid_i = 1;
        top.cmd_op_i = op;
        top.cmd_ntok_i = ntok;
        for (;;) {
            top.clk_i = 0;
            top.eval();
            bool fire = top.cmd_ready_o;
            top.clk_i = 1;
            top.eval();
            cycles++;
            if (fire) break;
        }
        top.cmd_valid_i = 0;
        uint64_t sent = 0, filled = ~uint64_t(0);
        bool done = !drain;
        while (sent < n || !done) {
            if (sent < n) {
                top.in_valid_i = 1;
                if (filled != sent) {
                    pam_bench::put_beat(top.in_data_i, data + sent * s->lanes, s->lanes);
                    filled = sent;
                }
            } else {
                top.in_valid_i = 0;
            }
            top.clk_i = 0;
            top.eval();
            bool in_fire = top.in_valid_i && top.in_ready_o;
            bool out_last = top.out_valid_o && top.out_last_o;
            if (out_last) r->out_m = top.out_m_o;
            top.clk_i = 1;
            top.eval();
            cycles++;
            if (in_fire) sent++;
            if (out_last) done = true;
        }
        top.in_valid_i = 0;
        while (!drain) {
            top.clk_i = 0;
            top.eval();
            if (top.cmd_ready_o) break;
            top.clk_i = 1;
            top.eval();
            cycles++;
        }
    };

    auto t0 = std::chrono::steady_clock::now();
    for (uint64_t rep = 0; rep < s->repeats; rep++) {
        command(0, 0, s->query, beats, false);
        command(1, s->tokens, s->kv, uint64_t(s->tokens) * 2 * beats, true);
    }
    auto t1 = std::chrono::steady_clock::now();
    r->cycles = cycles;
    r->seconds = std::chrono::duration<double>(t1 - t0).count();
    top.final();
    return 0;
}

#endif
