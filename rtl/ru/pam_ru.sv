// pam_ru: reduction unit (spec sections 4 and 5).
//
// Merges a sequence of unnormalised partials (O_i, m_i, l_i) into one with the online-softmax
// rule, m = max m_i, l = sum e^(m_i - m) l_i, O = sum e^(m_i - m) O_i, folding one partial at a
// time into an FP32 accumulator (pam_merge_scalar + pam_vec_axpby, round to nearest even).
// Empty partials (m_i = -inf) contribute nothing.
//
// Protocol (all ports valid/ready):
//   cmd MERGE n: consume n partials, then emit the merged partial as NB = ceil(cfg_dim_i/LANES)
//                beats of FP32 O with m and l on out_m_o / out_l_o.
//   cmd FINAL n: consume n partials, then emit NB beats of the normalised result O / l as FP16
//                in the low 16 bits of each 32-bit lane of out_data_o (upper bits 0), with
//                lse = m + ln l on out_lse_o. O / l is O * (1 / l): one correctly rounded
//                reciprocal (pam_fp32_recip), a multiply and an FP32-to-FP16 rounding per
//                element. With no non-empty partial the result is O = +0 and lse = -inf.
//   An input partial is NB beats of FP32 O lanes; in_m_i and in_l_i must be held valid with
//   every beat of it and are sampled before its first beat is consumed. Lanes at or beyond
//   cfg_dim_i are ignored on input and read as +0 on output.
//   err_o is sticky per command: set when an incoming m is NaN or +inf, an l is NaN or
//   infinite, or an O lane within cfg_dim_i is NaN or infinite.
//
// Timing with no back-pressure: one head cycle plus NB beat cycles per partial, one cycle to
// accept the command, NB output cycles; FINAL adds the reciprocal (pam_fp32_recip latency plus
// its handshake cycle).
module pam_ru #(
  parameter int unsigned LANES   = 16,
  parameter int unsigned DMAX    = 256,
  parameter int unsigned NPART_W = 16,
  localparam int unsigned DIM_W  = $clog2(DMAX + 1)
) (
  input  logic                  clk_i,
  input  logic                  rst_ni,
  input  logic [DIM_W-1:0]      cfg_dim_i,

  input  logic                  cmd_valid_i,
  output logic                  cmd_ready_o,
  input  logic                  cmd_op_i,
  input  logic [NPART_W-1:0]    cmd_nparts_i,

  input  logic                  in_valid_i,
  output logic                  in_ready_o,
  input  logic [LANES*32-1:0]   in_data_i,
  input  logic [31:0]           in_m_i,
  input  logic [31:0]           in_l_i,

  output logic                  out_valid_o,
  input  logic                  out_ready_i,
  output logic [LANES*32-1:0]   out_data_o,
  output logic                  out_last_o,
  output logic [31:0]           out_m_o,
  output logic [31:0]           out_l_o,
  output logic [31:0]           out_lse_o,

  output logic                  err_o
);
  localparam int unsigned NB_MAX   = (DMAX + LANES - 1) / LANES;
  localparam int unsigned BEAT_W   = (NB_MAX > 1) ? $clog2(NB_MAX) : 1;
  localparam logic        OP_FINAL = 1'b1;
  localparam logic [31:0] NEG_INF  = 32'hFF80_0000;
  localparam logic [7:0]  FP32_EXP_MAX = 8'hFF;

  typedef enum logic [2:0] {
    StIdle, StHead, StBeats, StRecip, StRecipWait, StOut
  } state_e;

  state_e                  state_q;
  logic                    final_q;
  logic [BEAT_W-1:0]       beat_q, last_beat_q;
  logic [DIM_W-1:0]        dim_q;
  logic [NPART_W-1:0]      left_q;
  logic [LANES-1:0][31:0]  o_q [NB_MAX];
  logic [31:0]             m_q, l_q, sa_q, si_q, rcp_q;
  logic                    err_q;

  logic [LANES-1:0][31:0]  in_o;
  assign in_o = in_data_i;

  wire last_beat = beat_q == last_beat_q;
  wire in_fire   = in_valid_i && in_ready_o;
  assign in_ready_o  = state_q == StBeats;
  assign cmd_ready_o = state_q == StIdle;

  logic [LANES-1:0] lane_on;
  for (genvar i = 0; i < LANES; i++) begin : g_mask
    assign lane_on[i] = ({{(32 - BEAT_W){1'b0}}, beat_q} * LANES + i) < {{(32 - DIM_W){1'b0}}, dim_q};
  end

  // ---- merge datapath -------------------------------------------------------------------------
  logic [31:0] m_next, l_next, sa, si;
  pam_merge_scalar u_merge (
    .m_acc_i(m_q), .l_acc_i(l_q), .m_in_i(in_m_i), .l_in_i(in_l_i),
    .m_o(m_next), .l_o(l_next), .scale_acc_o(sa), .scale_in_o(si)
  );
  logic [LANES-1:0][31:0] o_next;
  pam_vec_axpby #(.LANES(LANES)) u_axpby (
    .x_i(o_q[beat_q]), .a_i(sa_q), .z_i(in_o), .b_i(si_q), .y_o(o_next)
  );

  // Incoming values that mean the producer saw NaN or infinity.
  logic head_bad;
  logic [LANES-1:0] lane_bad;
  assign head_bad = (in_m_i[30:23] == FP32_EXP_MAX && in_m_i != NEG_INF)
                 || (in_l_i[30:23] == FP32_EXP_MAX);
  for (genvar i = 0; i < LANES; i++) begin : g_bad
    assign lane_bad[i] = lane_on[i] && (in_o[i][30:23] == FP32_EXP_MAX);
  end

  // ---- normalisation datapath -----------------------------------------------------------------
  logic        rcp_in_ready, rcp_out_valid;
  logic [31:0] rcp;
  pam_fp32_recip u_recip (
    .clk_i, .rst_ni,
    .in_valid_i(state_q == StRecip), .in_ready_o(rcp_in_ready), .x_i(l_q),
    .out_valid_o(rcp_out_valid), .out_ready_i(state_q == StRecipWait), .y_o(rcp)
  );

  logic [31:0] ln_l;
  pam_fp32_ln  u_ln  (.x_i(l_q), .y_o(ln_l));
  pam_fp32_add u_lse (.a_i(m_q), .b_i(ln_l), .y_o(out_lse_o));

  logic [LANES-1:0][31:0] final_lanes;
  for (genvar i = 0; i < LANES; i++) begin : g_norm
    logic [31:0] scaled;
    logic [15:0] h;
    pam_fp32_mul     u_mul  (.a_i(o_q[beat_q][i]), .b_i(rcp_q), .y_o(scaled));
    pam_fp32_to_fp16 u_half (.a_i(scaled), .y_o(h));
    // l = 0 only when every partial was empty: define the result as 0 rather than 0 * inf.
    assign final_lanes[i] = (lane_on[i] && l_q != '0) ? {16'h0, h} : '0;
  end

  // ---- control --------------------------------------------------------------------------------
  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      state_q     <= StIdle;
      final_q     <= 1'b0;
      beat_q      <= '0;
      last_beat_q <= '0;
      dim_q       <= '0;
      left_q      <= '0;
      m_q         <= NEG_INF;
      l_q         <= '0;
      sa_q        <= '0;
      si_q        <= '0;
      rcp_q       <= '0;
      err_q       <= 1'b0;
      for (int b = 0; b < NB_MAX; b++) o_q[b] <= '0;
    end else begin
      unique case (state_q)
        StIdle: if (cmd_valid_i) begin
          final_q     <= cmd_op_i == OP_FINAL;
          dim_q       <= cfg_dim_i;
          last_beat_q <= BEAT_W'((32'(cfg_dim_i) + LANES - 1) / LANES - 1);
          beat_q      <= '0;
          left_q      <= cmd_nparts_i;
          m_q         <= NEG_INF;
          l_q         <= '0;
          err_q       <= 1'b0;
          for (int b = 0; b < NB_MAX; b++) o_q[b] <= '0;
          if (cmd_nparts_i != '0) state_q <= StHead;
          else state_q <= (cmd_op_i == OP_FINAL) ? StRecip : StOut;
        end
        StHead: if (in_valid_i) begin
          m_q   <= m_next;
          l_q   <= l_next;
          sa_q  <= sa;
          si_q  <= si;
          if (head_bad) err_q <= 1'b1;
          state_q <= StBeats;
        end
        StBeats: if (in_fire) begin
          for (int i = 0; i < LANES; i++) o_q[beat_q][i] <= lane_on[i] ? o_next[i] : '0;
          if (lane_bad != '0) err_q <= 1'b1;
          beat_q <= last_beat ? '0 : beat_q + 1'b1;
          if (last_beat) begin
            left_q <= left_q - 1'b1;
            if (left_q != NPART_W'(1)) state_q <= StHead;
            else state_q <= final_q ? StRecip : StOut;
          end
        end
        StRecip: if (rcp_in_ready) state_q <= StRecipWait;
        StRecipWait: if (rcp_out_valid) begin
          rcp_q   <= rcp;
          state_q <= StOut;
        end
        StOut: if (out_ready_i) begin
          beat_q <= last_beat ? '0 : beat_q + 1'b1;
          if (last_beat) state_q <= StIdle;
        end
        default: state_q <= StIdle;
      endcase
    end
  end

  assign out_valid_o = state_q == StOut;
  assign out_data_o  = final_q ? final_lanes : o_q[beat_q];
  assign out_last_o  = last_beat;
  assign out_m_o     = m_q;
  assign out_l_o     = l_q;
  assign err_o       = err_q;

`ifndef SYNTHESIS
  // Cover points (rtl/README.md, Coverage): every state and transition, back-pressure on
  // every handshake, empty partials, special inputs.
  c_st_idle: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StIdle);
  c_st_head: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StHead);
  c_st_beats: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StBeats);
  c_st_recip: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StRecip);
  c_st_recip_wait: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StRecipWait);
  c_st_out: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StOut);
  c_idle_to_head: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StIdle && cmd_valid_i && cmd_nparts_i != '0);
  c_idle_to_recip: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StIdle && cmd_valid_i && cmd_nparts_i == '0 && cmd_op_i == OP_FINAL);
  c_idle_to_out: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StIdle && cmd_valid_i && cmd_nparts_i == '0 && cmd_op_i != OP_FINAL);
  c_head_to_beats: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StHead && in_valid_i);
  c_beats_to_head: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StBeats && in_fire && last_beat && left_q != NPART_W'(1));
  c_beats_to_recip: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StBeats && in_fire && last_beat && left_q == NPART_W'(1) && final_q);
  c_beats_to_out: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StBeats && in_fire && last_beat && left_q == NPART_W'(1) && !final_q);
  c_recip_to_wait: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StRecip && rcp_in_ready);
  c_wait_to_out: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StRecipWait && rcp_out_valid);
  c_out_to_idle: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StOut && out_ready_i && last_beat);
  c_cmd_wait: cover property (@(posedge clk_i) disable iff (!rst_ni) cmd_valid_i && !cmd_ready_o);
  c_head_wait: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StHead && !in_valid_i);
  c_in_wait: cover property (@(posedge clk_i) disable iff (!rst_ni) in_valid_i && !in_ready_o);
  c_beat_wait: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StBeats && !in_valid_i);
  c_out_wait: cover property (@(posedge clk_i) disable iff (!rst_ni) out_valid_o && !out_ready_i);
  c_empty_part: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StHead && in_valid_i && in_m_i == NEG_INF);
  c_all_empty_final: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StOut && final_q && l_q == '0);
  c_head_bad: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StHead && in_valid_i && head_bad);
  c_lane_bad: cover property (@(posedge clk_i) disable iff (!rst_ni) in_fire && lane_bad != '0);
`endif
endmodule
