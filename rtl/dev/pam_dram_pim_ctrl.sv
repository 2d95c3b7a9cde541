// pam_dram_pim_ctrl: command sequencer of a DRAM-PIM device (HBM-PIM or DDR-PIM tier).
//
// Turns host operations into DRAM commands on the device's one command bus, honouring the
// device's timing (runtime inputs, so presets are configuration):
//   WRITE / READ  one column of one bank (open-page: the row stays open for the next access);
//   SLOT          one token slot in all-bank lockstep: the row is opened in every bank (one
//                 all-bank ACT), then COLS_PER_TOKEN all-bank RDs stream the slot's columns;
//                 each bank's beat goes to its PU when the PU's bit of the mask is set. A RD
//                 waits until every PU can take a beat (pu_ready_i).
// Timing is enforced conservatively with device-wide timestamps (an ACT waits tRC, tRRD_L
// and tFAW/4 after any ACT, so per-bank and four-activate windows hold by construction);
// pam_dram_timing_check verifies every command independently. All-bank RDs are spaced by
// max(tCCD_L, cfg_rd_gap_i): the minimum gap is how the device compute cap is enforced.
// Refresh: when tREFI has elapsed since the last REF, the sequencer finishes the current
// operation, precharges all banks and refreshes before taking the next one.
// Latency: a host op is accepted in IDLE (hc_ready_o); WRITE and READ take at least one
// cycle, more when a row must be closed or opened; SLOT takes tRCD + (COLS_PER_TOKEN - 1) x
// gap + 1 cycles after its ACT when the row is not open yet.
module pam_dram_pim_ctrl
  import pam_mem_pkg::*;
#(
  parameter int unsigned NBG    = 4,
  parameter int unsigned NBANK  = 4,
  parameter int unsigned NPU    = 8,
  parameter int unsigned ROWS   = 128,
  parameter int unsigned COLS   = 32,
  localparam int unsigned BG_W  = (NBG > 1) ? $clog2(NBG) : 1,
  localparam int unsigned BA_W  = (NBANK > 1) ? $clog2(NBANK) : 1,
  localparam int unsigned ROW_W = $clog2(ROWS),
  localparam int unsigned COL_W = $clog2(COLS),
  localparam int unsigned OP_W  = 2
) (
  input  logic               clk_i,
  input  logic               rst_ni,
  // The sequencer spaces every ACT and column command by the same-bank-group (long) timings,
  // so the short ones (t_rrd_s, t_ccd_s) are met by construction and not read.
  /* verilator lint_off UNUSEDSIGNAL */
  input  dram_timing_t       timing_i,
  /* verilator lint_on UNUSEDSIGNAL */
  input  logic [T_W-1:0]     rd_gap_i,
  input  logic [COL_W:0]     cols_per_token_i,

  // host operations
  input  logic               hc_valid_i,
  output logic               hc_ready_o,
  input  logic [OP_W-1:0]    hc_op_i,
  input  logic [BG_W-1:0]    hc_bg_i,
  input  logic [BA_W-1:0]    hc_bank_i,
  input  logic [ROW_W-1:0]   hc_row_i,
  input  logic [COL_W-1:0]   hc_col_i,
  input  logic [NPU-1:0]     hc_mask_i,

  // DRAM command bus
  output logic               bus_valid_o,
  output dram_cmd_e          bus_cmd_o,
  output logic               bus_all_o,
  output logic [BG_W-1:0]    bus_bg_o,
  output logic [BA_W-1:0]    bus_bank_o,
  output logic [ROW_W-1:0]   bus_row_o,
  output logic [COL_W-1:0]   bus_col_o,
  input  logic               any_open_i,
  input  logic               target_open_i,
  input  logic [ROW_W-1:0]   target_row_i,

  // the beats of the RD issued last cycle go to these PUs (all-bank RD) / to the host
  output logic [NPU-1:0]     rd_mask_o,
  output logic               host_rd_o,

  input  logic               pu_ready_i
);
  localparam logic [OP_W-1:0] OP_WRITE = 2'd0;
  localparam logic [OP_W-1:0] OP_READ  = 2'd1;
  localparam logic [OP_W-1:0] OP_SLOT  = 2'd2;
  localparam int unsigned     TS_W      = 32;
  // Time starts far from zero so that "never" (timestamp 0) satisfies every timing.
  localparam logic [TS_W-1:0] TIME_ORIGIN = TS_W'(1) << (T_W + 1);

  typedef enum logic [3:0] {
    StIdle, StColOpen, StColAct, StColCmd, StSlotOpen, StSlotAct, StSlotRd, StRefPre, StRef
  } state_e;

  state_e            state_q;
  logic [OP_W-1:0]   op_q;
  logic [BG_W-1:0]   bg_q;
  logic [BA_W-1:0]   bank_q;
  logic [ROW_W-1:0]  row_q;
  logic [COL_W-1:0]  col_q;
  logic [COL_W:0]    left_q;
  logic [NPU-1:0]    mask_q;
  logic              lock_open_q;   // every bank open at lock_row_q by an all-bank ACT
  logic [ROW_W-1:0]  lock_row_q;

  logic [TS_W-1:0]   now_q, last_act_q, last_pre_q, last_rd_q, last_wr_q, last_col_q, last_ref_q;

  // ---- timing ------------------------------------------------------------------------------
  function automatic logic [TS_W-1:0] widen(logic [T_W-1:0] t);
    return {{(TS_W - T_W){1'b0}}, t};
  endfunction
  function automatic logic [TS_W-1:0] max2(logic [TS_W-1:0] a, logic [TS_W-1:0] b);
    return (a > b) ? a : b;
  endfunction

  logic [TS_W-1:0] act_gap, col_gap_rd, col_gap_wr, since_act, since_pre, since_col, since_ref;
  assign since_act  = now_q - last_act_q;
  assign since_pre  = now_q - last_pre_q;
  assign since_col  = now_q - last_col_q;
  assign since_ref  = now_q - last_ref_q;
  assign act_gap    = max2(max2(widen(timing_i.t_rc), widen(timing_i.t_rrd_l)),
                           (widen(timing_i.t_faw) + 3) >> 2);
  assign col_gap_wr = widen(timing_i.t_ccd_l);
  assign col_gap_rd = max2(col_gap_wr, widen(rd_gap_i));

  logic rfc_ok, act_ok, pre_ok, rd_ok, wr_ok, ref_ok, ref_due;
  assign rfc_ok  = since_ref >= widen(timing_i.t_rfc);
  assign act_ok  = rfc_ok && since_act >= act_gap && since_pre >= widen(timing_i.t_rp);
  assign pre_ok  = rfc_ok && since_act >= widen(timing_i.t_ras)
                && (now_q - last_wr_q) >= widen(timing_i.t_wr)
                && (now_q - last_rd_q) >= widen(timing_i.t_rtp);
  assign rd_ok   = rfc_ok && since_act >= widen(timing_i.t_rcd) && since_col >= col_gap_rd;
  assign wr_ok   = rfc_ok && since_act >= widen(timing_i.t_rcd) && since_col >= col_gap_wr;
  assign ref_ok  = rfc_ok && !any_open_i && since_pre >= widen(timing_i.t_rp);
  assign ref_due = since_ref >= widen(timing_i.t_refi);

  // ---- command bus -------------------------------------------------------------------------
  wire slot_row_open = lock_open_q && lock_row_q == row_q;
  dram_cmd_e cmd;
  logic      cmd_all;
  always_comb begin
    cmd     = CMD_NOP;
    cmd_all = 1'b0;
    unique case (state_q)
      StColOpen:  if (target_open_i && target_row_i != row_q && pre_ok) cmd = CMD_PRE;
      StColAct:   if (act_ok) cmd = CMD_ACT;
      StColCmd:   if ((op_q == OP_WRITE) ? wr_ok : rd_ok) cmd = (op_q == OP_WRITE) ? CMD_WR : CMD_RD;
      StSlotOpen: if (!slot_row_open && any_open_i && pre_ok) begin cmd = CMD_PRE; cmd_all = 1'b1; end
      StSlotAct:  if (act_ok) begin cmd = CMD_ACT; cmd_all = 1'b1; end
      StSlotRd:   if (rd_ok && pu_ready_i) begin cmd = CMD_RD; cmd_all = 1'b1; end
      StRefPre:   if (pre_ok) begin cmd = CMD_PRE; cmd_all = 1'b1; end
      StRef:      if (ref_ok) begin cmd = CMD_REF; cmd_all = 1'b1; end
      default: ;
    endcase
  end

  wire issue = cmd != CMD_NOP;
  assign bus_valid_o = issue;
  assign bus_cmd_o   = cmd;
  assign bus_all_o   = cmd_all;
  assign bus_bg_o    = bg_q;
  assign bus_bank_o  = bank_q;
  assign bus_row_o   = row_q;
  assign bus_col_o   = col_q;

  assign hc_ready_o = (state_q == StIdle) && !ref_due;

  // ---- sequencing --------------------------------------------------------------------------
  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      state_q     <= StIdle;
      op_q        <= '0;
      bg_q        <= '0;
      bank_q      <= '0;
      row_q       <= '0;
      col_q       <= '0;
      left_q      <= '0;
      mask_q      <= '0;
      lock_open_q <= 1'b0;
      lock_row_q  <= '0;
      now_q       <= TIME_ORIGIN;
      last_act_q  <= '0;
      last_pre_q  <= '0;
      last_rd_q   <= '0;
      last_wr_q   <= '0;
      last_col_q  <= '0;
      last_ref_q  <= '0;
      rd_mask_o   <= '0;
      host_rd_o   <= 1'b0;
    end else begin
      now_q     <= now_q + 1'b1;
      rd_mask_o <= '0;
      host_rd_o <= 1'b0;
      if (issue) begin
        unique case (cmd)
          CMD_ACT: last_act_q <= now_q;
          CMD_PRE: last_pre_q <= now_q;
          CMD_RD:  begin last_rd_q <= now_q; last_col_q <= now_q; end
          CMD_WR:  begin last_wr_q <= now_q; last_col_q <= now_q; end
          CMD_REF: last_ref_q <= now_q;
          default: ;
        endcase
        // A single-bank command breaks the lockstep "all open at one row" state.
        if (!cmd_all && (cmd == CMD_ACT || cmd == CMD_PRE)) lock_open_q <= 1'b0;
        if (cmd_all && cmd == CMD_PRE) lock_open_q <= 1'b0;
        if (cmd_all && cmd == CMD_ACT) begin
          lock_open_q <= 1'b1;
          lock_row_q  <= row_q;
        end
      end

      unique case (state_q)
        StIdle: begin
          if (ref_due) begin
            state_q <= any_open_i ? StRefPre : StRef;
          end else if (hc_valid_i) begin
            op_q   <= hc_op_i;
            bg_q   <= hc_bg_i;
            bank_q <= hc_bank_i;
            row_q  <= hc_row_i;
            col_q  <= hc_col_i;
            mask_q <= hc_mask_i;
            unique case (hc_op_i)
              OP_WRITE, OP_READ: state_q <= StColOpen;
              OP_SLOT: begin left_q <= cols_per_token_i; state_q <= StSlotOpen; end
              default: ;
            endcase
          end
        end
        // Single-bank access: close a different open row, open the target row, access.
        StColOpen: begin
          if (target_open_i && target_row_i == row_q) state_q <= StColCmd;
          else if (!target_open_i) state_q <= StColAct;
          else if (issue) state_q <= StColAct;
        end
        StColAct: if (issue) state_q <= StColCmd;
        StColCmd: if (issue) begin
          host_rd_o <= (op_q == OP_READ);
          state_q   <= StIdle;
        end
        // All-bank slot: reuse the open row when every bank has it, else reopen everywhere.
        StSlotOpen: begin
          if (slot_row_open) state_q <= StSlotRd;
          else if (!any_open_i) state_q <= StSlotAct;
          else if (issue) state_q <= StSlotAct;
        end
        StSlotAct: if (issue) state_q <= StSlotRd;
        StSlotRd: if (issue) begin
          rd_mask_o <= mask_q;
          col_q     <= col_q + 1'b1;
          left_q    <= left_q - 1'b1;
          if (left_q == (COL_W + 1)'(1)) state_q <= StIdle;
        end
        StRefPre: if (issue) state_q <= StRef;
        StRef: if (issue) state_q <= StIdle;
        default: state_q <= StIdle;
      endcase
    end
  end

`ifndef SYNTHESIS
  // Cover points (rtl/README.md, Coverage): every state and transition, each wait on timing,
  // refresh, back-pressure from the host and from the PUs.
  c_st_idle: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StIdle);
  c_st_col_open: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StColOpen);
  c_st_col_act: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StColAct);
  c_st_col_cmd: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StColCmd);
  c_st_slot_open: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StSlotOpen);
  c_st_slot_act: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StSlotAct);
  c_st_slot_rd: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StSlotRd);
  c_st_ref_pre: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StRefPre);
  c_st_ref: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StRef);
  c_idle_to_ref_pre: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StIdle && ref_due && any_open_i);
  c_idle_to_ref: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StIdle && ref_due && !any_open_i);
  c_idle_to_write: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StIdle && !ref_due && hc_valid_i && hc_op_i == OP_WRITE);
  c_idle_to_read: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StIdle && !ref_due && hc_valid_i && hc_op_i == OP_READ);
  c_idle_to_slot: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StIdle && !ref_due && hc_valid_i && hc_op_i == OP_SLOT);
  c_col_row_hit: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StColOpen && target_open_i && target_row_i == row_q);
  c_col_closed: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StColOpen && !target_open_i);
  c_col_row_miss: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StColOpen && target_open_i && target_row_i != row_q && issue);
  c_col_act_to_cmd: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StColAct && issue);
  c_col_write_done: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StColCmd && issue && op_q == OP_WRITE);
  c_col_read_done: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StColCmd && issue && op_q == OP_READ);
  c_slot_row_hit: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StSlotOpen && slot_row_open);
  c_slot_closed: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StSlotOpen && !slot_row_open && !any_open_i);
  c_slot_row_miss: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StSlotOpen && !slot_row_open && any_open_i && issue);
  c_slot_act_to_rd: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StSlotAct && issue);
  c_slot_rd_more: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StSlotRd && issue && left_q != (COL_W + 1)'(1));
  c_slot_done: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StSlotRd && issue && left_q == (COL_W + 1)'(1));
  c_ref_pre_to_ref: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StRefPre && issue);
  c_ref_done: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StRef && issue);
  c_hc_wait: cover property (@(posedge clk_i) disable iff (!rst_ni) hc_valid_i && !hc_ready_o);
  c_hc_wait_ref: cover property (@(posedge clk_i) disable iff (!rst_ni) hc_valid_i && state_q == StIdle && ref_due);
  c_pu_wait: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StSlotRd && rd_ok && !pu_ready_i);
  c_rd_gap_limits: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StSlotRd && !rd_ok && since_col >= col_gap_wr && since_act >= widen(timing_i.t_rcd));
  c_wait_act: cover property (@(posedge clk_i) disable iff (!rst_ni) (state_q == StColAct || state_q == StSlotAct) && !act_ok);
  c_wait_pre: cover property (@(posedge clk_i) disable iff (!rst_ni) (state_q == StRefPre || (state_q == StColOpen && target_open_i && target_row_i != row_q)) && !pre_ok);
  c_wait_ref: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StRef && !ref_ok);
`endif
endmodule
