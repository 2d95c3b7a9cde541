// pam_mem_pkg: commands, timing record and rule codes of the PAM DRAM model
// (pam_dram_bank, pam_dram_timing_check). Mirrored by src/device/timing.rs.
//
// The PIM devices run in all-bank lockstep mode (as Samsung HBM-PIM's all-bank
// mode): a command goes to one bank (bg, bank) or, with all=1, to every bank of
// the device at once; one command bus per device channel, at most one command
// per clock. Timing values are runtime inputs in memory clocks (16 bits each),
// so that the HBM3-5.2 and DDR4-3200 presets are configuration, not parameters.

`ifndef PAM_MEM_PKG_SV
`define PAM_MEM_PKG_SV

package pam_mem_pkg;

  // The constants below are the package's public API; a given design need not
  // use all of them, so unused-parameter warnings are waived for this package.
  /* verilator lint_off UNUSEDPARAM */

  // ---------------------------------------------------------------------------
  // Commands
  // ---------------------------------------------------------------------------
  localparam int unsigned CMD_W = 3;

  // NOP does nothing. PRE with all=1 precharges every open bank; REF always
  // refreshes every bank, whatever all says. Codes 6 and 7 act as NOP.
  typedef enum logic [CMD_W-1:0] {
    CMD_NOP = 3'd0,
    CMD_ACT = 3'd1,
    CMD_RD  = 3'd2,
    CMD_WR  = 3'd3,
    CMD_PRE = 3'd4,
    CMD_REF = 3'd5
  } dram_cmd_e;

  // ---------------------------------------------------------------------------
  // Timing (memory clocks; a command at cycle c and a later one at c' are
  // c' - c clocks apart, and a rule "X->Y >= tZ" requires c' - c >= tZ)
  // ---------------------------------------------------------------------------
  localparam int unsigned T_W = 16;

  typedef struct packed {
    logic [T_W-1:0] t_rcd;    // ACT -> RD/WR, same bank
    logic [T_W-1:0] t_rp;     // PRE -> ACT (and PRE -> REF), same bank
    logic [T_W-1:0] t_ras;    // ACT -> PRE, same bank
    logic [T_W-1:0] t_rc;     // ACT -> ACT, same bank
    logic [T_W-1:0] t_rrd_s;  // ACT -> ACT, different bank group
    logic [T_W-1:0] t_rrd_l;  // ACT -> ACT, same bank group
    logic [T_W-1:0] t_faw;    // window holding at most 4 ACTs
    logic [T_W-1:0] t_ccd_s;  // RD/WR -> RD/WR, different bank group
    logic [T_W-1:0] t_ccd_l;  // RD/WR -> RD/WR, same bank group
    logic [T_W-1:0] t_wr;     // WR -> PRE, same bank (command to command)
    logic [T_W-1:0] t_rtp;    // RD -> PRE, same bank
    logic [T_W-1:0] t_refi;   // average refresh interval
    logic [T_W-1:0] t_rfc;    // REF -> any command
  } dram_timing_t;

  // Refresh may be postponed by up to REF_POSTPONE intervals (as DDR4 and HBM3
  // allow): two consecutive REFs (and reset and the first REF) may be at most
  // (REF_POSTPONE + 1) * tREFI clocks apart.
  localparam int unsigned REF_POSTPONE = 8;
  // Width of the refresh-age counter: (REF_POSTPONE + 1) * (2^T_W - 1) fits.
  localparam int unsigned REF_AGE_W = 20;

  // ---------------------------------------------------------------------------
  // Rules checked by pam_dram_timing_check. The code is also the priority when
  // one command breaks several rules (viol_kind_o names the lowest code);
  // viol_rules_o[r] is set for every rule r the command breaks.
  // ---------------------------------------------------------------------------
  localparam int unsigned RULE_W = 5;
  localparam int unsigned NRULES = 16;

  typedef enum logic [RULE_W-1:0] {
    RULE_NONE        = 5'd0,
    RULE_PROT_CLOSED = 5'd1,   // RD/WR to a closed bank
    RULE_PROT_OPEN   = 5'd2,   // ACT to an open bank
    RULE_PROT_REF    = 5'd3,   // REF while a bank is open
    RULE_RFC         = 5'd4,   // any command within tRFC after REF
    RULE_RCD         = 5'd5,   // ACT -> RD/WR < tRCD
    RULE_RAS         = 5'd6,   // ACT -> PRE < tRAS
    RULE_RP          = 5'd7,   // PRE -> ACT or PRE -> REF < tRP
    RULE_RC          = 5'd8,   // ACT -> ACT same bank < tRC
    RULE_WR          = 5'd9,   // WR -> PRE < tWR
    RULE_RTP         = 5'd10,  // RD -> PRE < tRTP
    RULE_RRD_S       = 5'd11,  // ACT -> ACT other bank group < tRRD_S
    RULE_RRD_L       = 5'd12,  // ACT -> ACT same bank group < tRRD_L
    RULE_FAW         = 5'd13,  // fifth ACT within tFAW
    RULE_CCD_S       = 5'd14,  // RD/WR -> RD/WR other bank group < tCCD_S
    RULE_CCD_L       = 5'd15,  // RD/WR -> RD/WR same bank group < tCCD_L
    RULE_REFI        = 5'd16   // command while refresh is overdue
  } dram_rule_e;

  /* verilator lint_on UNUSEDPARAM */

  // Saturating increment of a "clocks since" counter: all-ones means "at least
  // 2^T_W - 1 clocks ago, or never", which satisfies every T_W-bit timing.
  function automatic logic [T_W-1:0] sat_inc(logic [T_W-1:0] v);
    return (&v) ? v : v + 1'b1;
  endfunction

endpackage

`endif  // PAM_MEM_PKG_SV
