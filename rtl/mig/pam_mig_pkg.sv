// pam_mig_pkg: layout kinds, address fields and the per-beat address rule of the migration
// interface ("PAM interface", spec section 8). Mirrored by src/device/migration.rs.
//
// A token is a byte string (its K beats then its V beats) stored as beats of a device's beat
// width. An address has four fields whose meaning depends on the device:
//   unit: bank group (DRAM) or channel (flash)     bank: bank (DRAM) or die (flash)
//   row:  row (DRAM) or page (flash)               col:  column (DRAM) or byte offset (flash)
// Beat j of a token whose first beat is at (unit, bank, row, col) lies at
//   LAYOUT_DRAM_SINGLE: (unit, bank,         row, col + j)
//   LAYOUT_DRAM_PAIR:   (unit, bank + j % 2, row, col + j / 2)  striped over a bank pair
//   LAYOUT_FLASH:       (unit, bank,         row, col + j * beat_bytes)
// so every beat of a token lies in one row (page) of one bank (die), or of a bank pair.
// Purely declarative: no logic, no latency.

`ifndef PAM_MIG_PKG_SV
`define PAM_MIG_PKG_SV

package pam_mig_pkg;

  // The constants below are the package's public API; a given design need not use all of
  // them, so unused-parameter warnings are waived for this package.
  /* verilator lint_off UNUSEDPARAM */

  localparam int unsigned KIND_W = 2;
  localparam int unsigned UNIT_W = 8;   // bank group / channel
  localparam int unsigned BANK_W = 8;   // bank / die
  localparam int unsigned ROW_W  = 24;  // row / page
  localparam int unsigned COL_W  = 16;  // column / byte offset
  localparam int unsigned TAG_W  = 16;  // caller's tag of a move, echoed with its writes

  typedef enum logic [KIND_W-1:0] {
    LAYOUT_DRAM_SINGLE = 2'd0,
    LAYOUT_DRAM_PAIR   = 2'd1,
    LAYOUT_FLASH       = 2'd2
  } mig_layout_e;

  typedef struct packed {
    logic [UNIT_W-1:0] unit;
    logic [BANK_W-1:0] bank;
    logic [ROW_W-1:0]  row;
    logic [COL_W-1:0]  col;
  } mig_addr_t;

  /* verilator lint_on UNUSEDPARAM */

  // Address of beat j of a token at `base` in layout `kind`, for beats of 2^BEAT_LOG2 bytes.
  // Unknown kinds (code 3) behave as LAYOUT_DRAM_SINGLE.
  function automatic mig_addr_t beat_addr(input logic [KIND_W-1:0] kind, input mig_addr_t base,
                                          input logic [COL_W-1:0] j, input int unsigned beat_log2);
    mig_addr_t a;
    a = base;
    unique case (kind)
      LAYOUT_DRAM_PAIR: begin
        a.bank = base.bank + BANK_W'(j[0]);
        a.col  = base.col + (j >> 1);
      end
      LAYOUT_FLASH: a.col = base.col + (j << beat_log2);
      default: a.col = base.col + j;
    endcase
    return a;
  endfunction

endpackage

`endif
