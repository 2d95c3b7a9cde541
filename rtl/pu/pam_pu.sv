// pam_pu: processing unit for local attention (spec section 4).
//
// Holds one FP16 query and folds a stream of (k, v) tokens into an unnormalised
// online-softmax partial (O, m, l): s = q . k; m' = max(m, s); O' = O e^(m-m') + v e^(s-m');
// l' = l e^(m-m') + e^(s-m'). Scores, m, l and O are FP32; every operation rounds to nearest
// even as in rtl/fp (DAZ/FTZ). The host scales q by 1/sqrt(d) before loading it.
//
// Protocol (all ports valid/ready):
//   cmd  LOAD_Q: the next NB = ceil(cfg_dim_i / LANES) input beats are the query.
//   cmd  RUN n : the next n * 2 * NB input beats are, per token, NB beats of k then NB of v;
//                then NB output beats carry O (lane i of beat b is element b*LANES+i), with m
//                and l held on out_m_o / out_l_o and out_last_o on the final beat.
//   Lanes at or beyond cfg_dim_i are ignored on input and read as +0 on output. cfg_dim_i is
//   sampled when a command is accepted (1 .. DMAX).
//   stall_o: the PU waits for an input beat (none arriving) or for out_ready_i; clocks change
//   nothing meanwhile.
//   err_o is sticky: set when a q, k or v element (within cfg_dim_i) is an FP16 infinity or
//   NaN; cleared when LOAD_Q is accepted.
//
// Input buffer: a FIFO of BUF_BYTES / (2 * LANES) beats between in_* and the datapath.
// Timing with no back-pressure: a token takes 2 * NB + 1 cycles (NB key beats, one
// softmax cycle, NB value beats); RUN n from command acceptance to the last output beat takes
// 2 + n * (2 * NB + 1) + NB cycles (one cycle to accept, one cycle of FIFO latency).
module pam_pu #(
  parameter int unsigned LANES     = 16,
  parameter int unsigned DMAX      = 256,
  parameter int unsigned BUF_BYTES = 512,
  parameter int unsigned NTOK_W    = 32,
  localparam int unsigned DIM_W    = $clog2(DMAX + 1)
) (
  input  logic                  clk_i,
  input  logic                  rst_ni,
  input  logic [DIM_W-1:0]      cfg_dim_i,

  input  logic                  cmd_valid_i,
  output logic                  cmd_ready_o,
  input  logic                  cmd_op_i,
  input  logic [NTOK_W-1:0]     cmd_ntok_i,

  input  logic                  in_valid_i,
  output logic                  in_ready_o,
  input  logic [LANES*16-1:0]   in_data_i,

  output logic                  out_valid_o,
  input  logic                  out_ready_i,
  output logic [LANES*32-1:0]   out_data_o,
  output logic                  out_last_o,
  output logic [31:0]           out_m_o,
  output logic [31:0]           out_l_o,

  output logic                  err_o,
  // Waiting for an input beat (buffer empty in a state that needs one) or for the output to be
  // taken: a clock changes nothing until that happens, so a host may skip clocking the PU.
  output logic                  stall_o
);
  localparam int unsigned NB_MAX    = (DMAX + LANES - 1) / LANES;
  localparam int unsigned BEAT_W    = (NB_MAX > 1) ? $clog2(NB_MAX) : 1;
  localparam int unsigned BUF_DEPTH = BUF_BYTES / (2 * LANES);
  localparam logic        OP_LOAD_Q = 1'b0;
  localparam logic [31:0] NEG_INF   = 32'hFF80_0000;
  localparam logic [31:0] NEG_ZERO  = 32'h8000_0000;
  localparam logic [31:0] ONE       = 32'h3F80_0000;
  localparam logic [4:0]  FP16_EXP_MAX = 5'h1F;

  typedef enum logic [2:0] {
    StIdle, StQLoad, StKey, StSoftmax, StValue, StOut
  } state_e;

  if (BUF_DEPTH < 1) begin : g_buf_check
    $error("pam_pu: BUF_BYTES must hold at least one beat");
  end

  // ---- input buffer -------------------------------------------------------------------------
  logic                      beat_valid, beat_ready;
  logic [LANES-1:0][15:0]    beat;
  pam_fifo #(.WIDTH(LANES * 16), .DEPTH(BUF_DEPTH)) u_buf (
    .clk_i, .rst_ni,
    .in_valid_i, .in_ready_o, .in_data_i,
    .out_valid_o(beat_valid), .out_ready_i(beat_ready), .out_data_o(beat)
  );

  // ---- state ----------------------------------------------------------------------------------
  state_e                  state_q;
  logic [BEAT_W-1:0]       beat_q, last_beat_q;
  logic [DIM_W-1:0]        dim_q;
  logic [NTOK_W-1:0]       tok_left_q;
  logic [LANES-1:0][15:0]  q_q [NB_MAX];
  logic [LANES-1:0][31:0]  o_q [NB_MAX];
  logic [31:0]             s_q, m_q, l_q, scale_o_q, scale_v_q;
  logic                    err_q;

  wire beat_fire = beat_valid && beat_ready;
  wire last_beat = beat_q == last_beat_q;
  assign beat_ready = (state_q == StQLoad) || (state_q == StKey) || (state_q == StValue);
  assign cmd_ready_o = state_q == StIdle;

  // Lanes of the current beat that lie inside the head dimension.
  logic [LANES-1:0] lane_on;
  for (genvar i = 0; i < LANES; i++) begin : g_mask
    assign lane_on[i] = ({{(32 - BEAT_W){1'b0}}, beat_q} * LANES + i) < {{(32 - DIM_W){1'b0}}, dim_q};
  end

  // ---- datapath -------------------------------------------------------------------------------
  logic [LANES-1:0][31:0] x32, q32, o_next;
  logic [LANES-1:0]       x_special;
  for (genvar i = 0; i < LANES; i++) begin : g_widen
    pam_fp16_to_fp32 u_x (.a_i(beat[i]), .y_o(x32[i]));
    pam_fp16_to_fp32 u_q (.a_i(q_q[beat_q][i]), .y_o(q32[i]));
    assign x_special[i] = lane_on[i] && (beat[i][14:10] == FP16_EXP_MAX);
  end

  logic [31:0] dot, s_next;
  pam_vec_dot #(.LANES(LANES)) u_dot (.a_i(q32), .b_i(x32), .mask_i(lane_on), .y_o(dot));
  pam_fp32_add u_acc (.a_i(s_q), .b_i(dot), .y_o(s_next));

  // The token enters the merge as a part of its own: m = s, l = 1, O = v.
  logic [31:0] m_next, l_next, scale_o, scale_v;
  pam_merge_scalar u_merge (
    .m_acc_i(m_q), .l_acc_i(l_q), .m_in_i(s_q), .l_in_i(ONE),
    .m_o(m_next), .l_o(l_next), .scale_acc_o(scale_o), .scale_in_o(scale_v)
  );
  pam_vec_axpby #(.LANES(LANES)) u_axpby (
    .x_i(o_q[beat_q]), .a_i(scale_o_q), .z_i(x32), .b_i(scale_v_q), .y_o(o_next)
  );

  // ---- control --------------------------------------------------------------------------------
  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      state_q     <= StIdle;
      beat_q      <= '0;
      last_beat_q <= '0;
      dim_q       <= '0;
      tok_left_q  <= '0;
      s_q         <= NEG_ZERO;
      m_q         <= NEG_INF;
      l_q         <= '0;
      scale_o_q   <= '0;
      scale_v_q   <= '0;
      err_q       <= 1'b0;
      for (int b = 0; b < NB_MAX; b++) o_q[b] <= '0;
    end else begin
      if (beat_fire && (x_special != '0)) err_q <= 1'b1;
      unique case (state_q)
        StIdle: if (cmd_valid_i) begin
          dim_q       <= cfg_dim_i;
          last_beat_q <= BEAT_W'((32'(cfg_dim_i) + LANES - 1) / LANES - 1);
          beat_q      <= '0;
          if (cmd_op_i == OP_LOAD_Q) begin
            err_q   <= 1'b0;
            state_q <= StQLoad;
          end else begin
            tok_left_q <= cmd_ntok_i;
            s_q        <= NEG_ZERO;
            m_q        <= NEG_INF;
            l_q        <= '0;
            for (int b = 0; b < NB_MAX; b++) o_q[b] <= '0;
            state_q <= (cmd_ntok_i == '0) ? StOut : StKey;
          end
        end
        StQLoad: if (beat_fire) begin
          q_q[beat_q] <= beat;
          beat_q      <= last_beat ? '0 : beat_q + 1'b1;
          if (last_beat) state_q <= StIdle;
        end
        StKey: if (beat_fire) begin
          s_q    <= s_next;
          beat_q <= last_beat ? '0 : beat_q + 1'b1;
          if (last_beat) state_q <= StSoftmax;
        end
        StSoftmax: begin
          m_q       <= m_next;
          l_q       <= l_next;
          scale_o_q <= scale_o;
          scale_v_q <= scale_v;
          state_q   <= StValue;
        end
        StValue: if (beat_fire) begin
          for (int i = 0; i < LANES; i++) o_q[beat_q][i] <= lane_on[i] ? o_next[i] : '0;
          beat_q <= last_beat ? '0 : beat_q + 1'b1;
          if (last_beat) begin
            s_q        <= NEG_ZERO;
            tok_left_q <= tok_left_q - 1'b1;
            state_q    <= (tok_left_q == NTOK_W'(1)) ? StOut : StKey;
          end
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
  assign out_data_o  = o_q[beat_q];
  assign out_last_o  = last_beat;
  assign out_m_o     = m_q;
  assign out_l_o     = l_q;
  assign err_o       = err_q;
  assign stall_o     = (beat_ready && !beat_valid && !(in_valid_i && in_ready_o))
                    || (out_valid_o && !out_ready_i);

`ifndef SYNTHESIS
  // Cover points (rtl/README.md, Coverage): every state and transition, back-pressure on
  // every handshake, partial beats, special inputs.
  c_st_idle: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StIdle);
  c_st_qload: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StQLoad);
  c_st_key: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StKey);
  c_st_softmax: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StSoftmax);
  c_st_value: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StValue);
  c_st_out: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StOut);
  c_idle_to_qload: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StIdle && cmd_valid_i && cmd_op_i == OP_LOAD_Q);
  c_idle_to_key: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StIdle && cmd_valid_i && cmd_op_i != OP_LOAD_Q && cmd_ntok_i != '0);
  c_idle_to_out: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StIdle && cmd_valid_i && cmd_op_i != OP_LOAD_Q && cmd_ntok_i == '0);
  c_qload_to_idle: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StQLoad && beat_fire && last_beat);
  c_key_to_softmax: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StKey && beat_fire && last_beat);
  c_value_to_key: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StValue && beat_fire && last_beat && tok_left_q != NTOK_W'(1));
  c_value_to_out: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StValue && beat_fire && last_beat && tok_left_q == NTOK_W'(1));
  c_out_to_idle: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StOut && out_ready_i && last_beat);
  c_single_beat: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StKey && beat_fire && beat_q == '0 && last_beat);
  c_partial_beat: cover property (@(posedge clk_i) disable iff (!rst_ni) beat_fire && lane_on != '0 && !(&lane_on));
  c_cmd_wait: cover property (@(posedge clk_i) disable iff (!rst_ni) cmd_valid_i && !cmd_ready_o);
  c_in_wait: cover property (@(posedge clk_i) disable iff (!rst_ni) in_valid_i && !in_ready_o);
  c_beat_wait: cover property (@(posedge clk_i) disable iff (!rst_ni) beat_ready && !beat_valid);
  c_out_wait: cover property (@(posedge clk_i) disable iff (!rst_ni) out_valid_o && !out_ready_i);
  c_special_in: cover property (@(posedge clk_i) disable iff (!rst_ni) beat_fire && x_special != '0);
  c_err_cleared: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StIdle && cmd_valid_i && cmd_op_i == OP_LOAD_Q && err_q);
`endif
endmodule
