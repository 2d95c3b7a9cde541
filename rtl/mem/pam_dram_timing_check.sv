// pam_dram_timing_check: watches one device's command bus and flags every
// DRAM timing and protocol violation. Mirrored bit for bit by
// src/device/timing.rs (`check`).
//
// Bus: at most one command per clock (cmd_valid_i with cmd_i); all_i=1
// addresses every bank (all-bank lockstep PIM mode), else bank (bg_i, bank_i).
// REF always addresses every bank. Timing comes from timing_i (memory clocks).
//
// Rules (a command at cycle c against an earlier one at c'; "< t" is a
// violation when c - c' < t). Per bank, for every bank the command addresses:
//   ACT:    bank open -> PROT_OPEN, else PRE->ACT < tRP -> RP;
//           ACT->ACT < tRC -> RC.
//   RD/WR:  bank closed -> PROT_CLOSED, else ACT->RD/WR < tRCD -> RCD.
//   PRE:    only on an open bank (PRE of a closed bank is a legal no-op):
//           ACT->PRE < tRAS -> RAS, WR->PRE < tWR -> WR, RD->PRE < tRTP -> RTP.
//   REF:    bank open -> PROT_REF, else PRE->REF < tRP -> RP.
// Per bus:
//   every non-NOP command: REF->cmd < tRFC -> RFC; more than
//     (REF_POSTPONE + 1) * tREFI clocks since the last REF (or since reset,
//     cycle 0 being the first cycle out of reset) -> REFI (so a late REF is
//     flagged itself, and so is every command issued while refresh is overdue).
//   ACT:    against the last ACT of each bank group: same group < tRRD_L ->
//           RRD_L, other group < tRRD_S -> RRD_S; fifth ACT within tFAW -> FAW.
//   RD/WR:  against the last RD/WR of each bank group: same group < tCCD_L ->
//           CCD_L, other group < tCCD_S -> CCD_S.
// All-bank commands: an all-bank ACT counts as ONE activation for tRRD and
// tFAW (in PIM all-bank mode the power limit is enforced by the device compute
// cap, not by tFAW). An all-bank ACT or RD/WR shares a bank group with every
// other command, so it is checked (and later checked against) with the _L
// times only.
// A violating command still takes effect as if it were legal (an ACT opens,
// a PRE closes open banks, every command updates its timestamps), so one
// mistake is reported once, not again at every later command.
//
// Outputs (latency 0: combinational on the bus, in the cycle of the offending
// command): viol_o, viol_rules_o[r] for every broken rule r (dram_rule_e),
// viol_kind_o = the lowest broken rule code (RULE_NONE when none).
// viol_count_o (registered) counts offending commands (cycles with viol_o)
// since reset, saturating at all-ones.
//
// Implementation: per event a saturating "clocks since" counter (all-ones =
// never or long ago), so any 16-bit timing compares exactly.
module pam_dram_timing_check
  import pam_mem_pkg::*;
#(
  parameter int unsigned NBG     = 4,   // bank groups
  parameter int unsigned NBANK   = 4,   // banks per bank group
  parameter int unsigned COUNT_W = 16,
  localparam int unsigned NB     = NBG * NBANK,
  localparam int unsigned BG_W   = (NBG > 1) ? $clog2(NBG) : 1,
  localparam int unsigned BA_W   = (NBANK > 1) ? $clog2(NBANK) : 1
) (
  input  logic               clk_i,
  input  logic               rst_ni,
  input  dram_timing_t       timing_i,
  input  logic               cmd_valid_i,
  input  dram_cmd_e          cmd_i,
  input  logic               all_i,
  input  logic [BG_W-1:0]    bg_i,
  input  logic [BA_W-1:0]    bank_i,
  output logic               viol_o,
  output dram_rule_e         viol_kind_o,
  output logic [NRULES:1]    viol_rules_o,
  output logic [COUNT_W-1:0] viol_count_o
);
  localparam logic [T_W-1:0] NEVER = '1;
  localparam logic [REF_AGE_W-1:0] REF_AGE_MAX = '1;

  // ---------------------------------------------------------------------------
  // State: clocks since each event
  // ---------------------------------------------------------------------------
  logic [NB-1:0]    open_q;
  logic [T_W-1:0]   act_q [NB];     // last ACT, per bank
  logic [T_W-1:0]   pre_q [NB];     // last PRE that closed the bank
  logic [T_W-1:0]   rd_q  [NB];     // last RD, per bank
  logic [T_W-1:0]   wr_q  [NB];     // last WR, per bank
  logic [T_W-1:0]   act_bg_q [NBG]; // last single-bank ACT, per bank group
  logic [T_W-1:0]   act_all_q;      // last all-bank ACT
  logic [T_W-1:0]   cas_bg_q [NBG]; // last single-bank RD/WR, per bank group
  logic [T_W-1:0]   cas_all_q;      // last all-bank RD/WR
  logic [T_W-1:0]   faw_q [4];      // the last four ACTs, most recent first
  logic [T_W-1:0]   ref_q;          // last REF (for tRFC)
  logic [REF_AGE_W-1:0] ref_age_q;  // clocks since the last REF or reset
  logic [COUNT_W-1:0]   count_q;

  // ---------------------------------------------------------------------------
  // Decode
  // ---------------------------------------------------------------------------
  wire is_act = cmd_valid_i && (cmd_i == CMD_ACT);
  wire is_rd  = cmd_valid_i && (cmd_i == CMD_RD);
  wire is_wr  = cmd_valid_i && (cmd_i == CMD_WR);
  wire is_pre = cmd_valid_i && (cmd_i == CMD_PRE);
  wire is_ref = cmd_valid_i && (cmd_i == CMD_REF);
  wire is_cas = is_rd || is_wr;
  wire is_cmd = is_act || is_cas || is_pre || is_ref;

  logic [NB-1:0]  sel;     // banks addressed by this command
  logic [NBG-1:0] bg_sel;  // bank groups addressed
  always_comb begin
    for (int unsigned g = 0; g < NBG; g++) begin
      bg_sel[g] = all_i || is_ref || (BG_W'(g) == bg_i);
      for (int unsigned b = 0; b < NBANK; b++) begin
        sel[g*NBANK+b] = all_i || is_ref || ((BG_W'(g) == bg_i) && (BA_W'(b) == bank_i));
      end
    end
  end

  // (REF_POSTPONE + 1) * tREFI, exactly, in REF_AGE_W bits.
  wire [REF_AGE_W-1:0] refi_max = REF_AGE_W'(timing_i.t_refi) * REF_AGE_W'(REF_POSTPONE + 1);

  // ---------------------------------------------------------------------------
  // Checks
  // ---------------------------------------------------------------------------
  logic [NRULES:1] rules;
  always_comb begin
    rules = '0;
    if (is_cmd) begin
      if (ref_q < timing_i.t_rfc) rules[RULE_RFC] = 1'b1;
      if (ref_age_q > refi_max)   rules[RULE_REFI] = 1'b1;
    end
    for (int unsigned b = 0; b < NB; b++) begin
      if (sel[b]) begin
        if (is_act) begin
          if (open_q[b]) rules[RULE_PROT_OPEN] = 1'b1;
          else if (pre_q[b] < timing_i.t_rp) rules[RULE_RP] = 1'b1;
          if (act_q[b] < timing_i.t_rc) rules[RULE_RC] = 1'b1;
        end
        if (is_cas) begin
          if (!open_q[b]) rules[RULE_PROT_CLOSED] = 1'b1;
          else if (act_q[b] < timing_i.t_rcd) rules[RULE_RCD] = 1'b1;
        end
        if (is_pre && open_q[b]) begin
          if (act_q[b] < timing_i.t_ras) rules[RULE_RAS] = 1'b1;
          if (wr_q[b] < timing_i.t_wr)   rules[RULE_WR] = 1'b1;
          if (rd_q[b] < timing_i.t_rtp)  rules[RULE_RTP] = 1'b1;
        end
        if (is_ref) begin
          if (open_q[b]) rules[RULE_PROT_REF] = 1'b1;
          else if (pre_q[b] < timing_i.t_rp) rules[RULE_RP] = 1'b1;
        end
      end
    end
    if (is_act) begin
      if (act_all_q < timing_i.t_rrd_l) rules[RULE_RRD_L] = 1'b1;
      if (faw_q[3] < timing_i.t_faw)    rules[RULE_FAW] = 1'b1;
      for (int unsigned g = 0; g < NBG; g++) begin
        if (bg_sel[g]) begin
          if (act_bg_q[g] < timing_i.t_rrd_l) rules[RULE_RRD_L] = 1'b1;
        end else if (act_bg_q[g] < timing_i.t_rrd_s) begin
          rules[RULE_RRD_S] = 1'b1;
        end
      end
    end
    if (is_cas) begin
      if (cas_all_q < timing_i.t_ccd_l) rules[RULE_CCD_L] = 1'b1;
      for (int unsigned g = 0; g < NBG; g++) begin
        if (bg_sel[g]) begin
          if (cas_bg_q[g] < timing_i.t_ccd_l) rules[RULE_CCD_L] = 1'b1;
        end else if (cas_bg_q[g] < timing_i.t_ccd_s) begin
          rules[RULE_CCD_S] = 1'b1;
        end
      end
    end
  end

  always_comb begin
    viol_kind_o = RULE_NONE;
    for (int unsigned r = 1; r <= NRULES; r++) begin
      if (rules[r] && viol_kind_o == RULE_NONE) viol_kind_o = dram_rule_e'(RULE_W'(r));
    end
  end

  assign viol_o       = |rules;
  assign viol_rules_o = rules;
  assign viol_count_o = count_q;

  // ---------------------------------------------------------------------------
  // State update: every command takes effect, legal or not
  // ---------------------------------------------------------------------------
  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      open_q    <= '0;
      act_all_q <= NEVER;
      cas_all_q <= NEVER;
      ref_q     <= NEVER;
      ref_age_q <= '0;
      count_q   <= '0;
      for (int unsigned b = 0; b < NB; b++) begin
        act_q[b] <= NEVER;
        pre_q[b] <= NEVER;
        rd_q[b]  <= NEVER;
        wr_q[b]  <= NEVER;
      end
      for (int unsigned g = 0; g < NBG; g++) begin
        act_bg_q[g] <= NEVER;
        cas_bg_q[g] <= NEVER;
      end
      for (int unsigned i = 0; i < 4; i++) faw_q[i] <= NEVER;
    end else begin
      for (int unsigned b = 0; b < NB; b++) begin
        act_q[b] <= (is_act && sel[b]) ? T_W'(1) : sat_inc(act_q[b]);
        pre_q[b] <= (is_pre && sel[b] && open_q[b]) ? T_W'(1) : sat_inc(pre_q[b]);
        rd_q[b]  <= (is_rd && sel[b]) ? T_W'(1) : sat_inc(rd_q[b]);
        wr_q[b]  <= (is_wr && sel[b]) ? T_W'(1) : sat_inc(wr_q[b]);
        if (is_act && sel[b]) open_q[b] <= 1'b1;
        else if (is_pre && sel[b]) open_q[b] <= 1'b0;
      end
      for (int unsigned g = 0; g < NBG; g++) begin
        act_bg_q[g] <= (is_act && !all_i && BG_W'(g) == bg_i) ? T_W'(1) : sat_inc(act_bg_q[g]);
        cas_bg_q[g] <= (is_cas && !all_i && BG_W'(g) == bg_i) ? T_W'(1) : sat_inc(cas_bg_q[g]);
      end
      act_all_q <= (is_act && all_i) ? T_W'(1) : sat_inc(act_all_q);
      cas_all_q <= (is_cas && all_i) ? T_W'(1) : sat_inc(cas_all_q);
      faw_q[0] <= is_act ? T_W'(1) : sat_inc(faw_q[0]);
      for (int unsigned i = 1; i < 4; i++) begin
        faw_q[i] <= is_act ? sat_inc(faw_q[i-1]) : sat_inc(faw_q[i]);
      end
      ref_q     <= is_ref ? T_W'(1) : sat_inc(ref_q);
      ref_age_q <= is_ref ? REF_AGE_W'(1)
                 : (ref_age_q == REF_AGE_MAX) ? ref_age_q : ref_age_q + 1'b1;
      if (|rules && !(&count_q)) count_q <= count_q + 1'b1;
    end
  end

`ifndef SYNTHESIS
  // Cover points (rtl/README.md, Coverage): every timing rule met by a command issued on the
  // earliest legal clock or the one after ("near its limit"), refresh postponed, and a PRE of a
  // closed bank (a legal no-op).
  function automatic logic near(input logic [T_W-1:0] since, input logic [T_W-1:0] t);
    return since >= t && since - t < T_W'(2);
  endfunction
  logic n_rp_act, n_rp_ref, n_rc, n_rcd, n_ras, n_wr, n_rtp, n_rrd_l, n_rrd_s, n_faw, n_ccd_l,
        n_ccd_s, n_rfc, pre_closed;
  always_comb begin
    n_rp_act = 1'b0; n_rp_ref = 1'b0; n_rc = 1'b0; n_rcd = 1'b0; n_ras = 1'b0; n_wr = 1'b0;
    n_rtp = 1'b0; n_rrd_l = 1'b0; n_rrd_s = 1'b0; n_ccd_l = 1'b0; n_ccd_s = 1'b0;
    pre_closed = 1'b0;
    for (int unsigned b = 0; b < NB; b++) begin
      if (sel[b]) begin
        if (is_act && !open_q[b] && near(pre_q[b], timing_i.t_rp)) n_rp_act = 1'b1;
        if (is_act && near(act_q[b], timing_i.t_rc)) n_rc = 1'b1;
        if (is_cas && open_q[b] && near(act_q[b], timing_i.t_rcd)) n_rcd = 1'b1;
        if (is_pre && open_q[b] && near(act_q[b], timing_i.t_ras)) n_ras = 1'b1;
        if (is_pre && open_q[b] && near(wr_q[b], timing_i.t_wr)) n_wr = 1'b1;
        if (is_pre && open_q[b] && near(rd_q[b], timing_i.t_rtp)) n_rtp = 1'b1;
        if (is_ref && !open_q[b] && near(pre_q[b], timing_i.t_rp)) n_rp_ref = 1'b1;
        if (is_pre && !all_i && !open_q[b]) pre_closed = 1'b1;
      end
    end
    if (is_act && near(act_all_q, timing_i.t_rrd_l)) n_rrd_l = 1'b1;
    if (is_cas && near(cas_all_q, timing_i.t_ccd_l)) n_ccd_l = 1'b1;
    for (int unsigned g = 0; g < NBG; g++) begin
      if (is_act && bg_sel[g] && near(act_bg_q[g], timing_i.t_rrd_l)) n_rrd_l = 1'b1;
      if (is_act && !bg_sel[g] && near(act_bg_q[g], timing_i.t_rrd_s)) n_rrd_s = 1'b1;
      if (is_cas && bg_sel[g] && near(cas_bg_q[g], timing_i.t_ccd_l)) n_ccd_l = 1'b1;
      if (is_cas && !bg_sel[g] && near(cas_bg_q[g], timing_i.t_ccd_s)) n_ccd_s = 1'b1;
    end
    n_faw = is_act && near(faw_q[3], timing_i.t_faw);
    n_rfc = is_cmd && near(ref_q, timing_i.t_rfc);
  end
  c_near_rp_act: cover property (@(posedge clk_i) disable iff (!rst_ni) n_rp_act);
  c_near_rp_ref: cover property (@(posedge clk_i) disable iff (!rst_ni) n_rp_ref);
  c_near_rc: cover property (@(posedge clk_i) disable iff (!rst_ni) n_rc);
  c_near_rcd: cover property (@(posedge clk_i) disable iff (!rst_ni) n_rcd);
  c_near_ras: cover property (@(posedge clk_i) disable iff (!rst_ni) n_ras);
  c_near_wr: cover property (@(posedge clk_i) disable iff (!rst_ni) n_wr);
  c_near_rtp: cover property (@(posedge clk_i) disable iff (!rst_ni) n_rtp);
  c_near_rrd_l: cover property (@(posedge clk_i) disable iff (!rst_ni) n_rrd_l);
  c_near_rrd_s: cover property (@(posedge clk_i) disable iff (!rst_ni) n_rrd_s);
  c_near_faw: cover property (@(posedge clk_i) disable iff (!rst_ni) n_faw);
  c_near_ccd_l: cover property (@(posedge clk_i) disable iff (!rst_ni) n_ccd_l);
  c_near_ccd_s: cover property (@(posedge clk_i) disable iff (!rst_ni) n_ccd_s);
  c_near_rfc: cover property (@(posedge clk_i) disable iff (!rst_ni) n_rfc);
  c_ref_postponed: cover property (@(posedge clk_i) disable iff (!rst_ni) is_ref && ref_age_q > REF_AGE_W'(timing_i.t_refi));
  c_near_refi: cover property (@(posedge clk_i) disable iff (!rst_ni) is_cmd && ref_age_q <= refi_max && refi_max - ref_age_q < REF_AGE_W'(2));
  c_pre_closed: cover property (@(posedge clk_i) disable iff (!rst_ni) pre_closed);
  c_all_bank_act: cover property (@(posedge clk_i) disable iff (!rst_ni) is_act && all_i);
  c_single_bank_act: cover property (@(posedge clk_i) disable iff (!rst_ni) is_act && !all_i);
`endif
endmodule
