// pam_fp32_recip: binary32 reciprocal y = 1/x, correctly rounded (round to
// nearest even), DAZ/FTZ, computed by a sequential radix-2 restoring divider
// (one quotient bit per cycle, 26 quotient bits: 24 significand bits, guard,
// and one more so an exact 1.0 significand needs no special path; the final
// remainder gives the sticky bit).
//
// Handshake: valid/ready on both sides. in_ready_o is high only when the unit
// is idle (registered, no combinational path from out_ready_i); x_i is sampled
// on the clock edge where in_valid_i && in_ready_o. y_o holds the result, and
// stays stable, while out_valid_o is high; it is consumed on the edge where
// out_valid_o && out_ready_i, and the unit is idle (in_ready_o high) again in
// the cycle after.
//
// Latency: exactly RCP_LATENCY = 26 cycles: out_valid_o goes high 26 clock
// edges after the accepting edge, for every input (special values included).
// With out_ready_i held high a new input can be accepted every 28 cycles.
// Reset: rst_ni synchronous, active low.
//
// Special values: NaN -> canonical NaN 32'h7FC0_0000; +-0 and subnormals
// (DAZ) -> +-inf; +-inf -> +-0; results below the normal range after rounding
// (|x| >= 2^127 roughly) -> signed zero (FTZ). 1/x never overflows.

module pam_fp32_recip
  import pam_fp_pkg::*;
(
  input  logic              clk_i,
  input  logic              rst_ni,
  input  logic              in_valid_i,
  output logic              in_ready_o,
  input  logic [FP32_W-1:0] x_i,
  output logic              out_valid_o,
  input  logic              out_ready_i,
  output logic [FP32_W-1:0] y_o
);

  localparam int unsigned REM_W = FP32_SIG_W + 1;  // partial remainder < 2 * divisor
  localparam int unsigned CNT_W = 5;
  localparam logic [CNT_W-1:0] CNT_LAST = CNT_W'(RCP_LATENCY - 1);
  localparam logic [REM_W-1:0] REM_INIT = REM_W'(1) << FP32_MAN_W;  // dividend 1.0
  localparam int unsigned EOFF_W = FP32_EXP_W + 1;
  // Result biased exponent + 1 (offset keeps it non-negative):
  //   quotient >= 1 (divisor significand exactly 1.0): 254 - exp + 1
  //   quotient <  1:                                    253 - exp + 1
  localparam logic [EOFF_W-1:0] EOFF_TOP_EXACT = 9'd255;
  localparam logic [EOFF_W-1:0] EOFF_TOP_FRAC  = 9'd254;
  localparam logic [EOFF_W-1:0] EOFF_UNF       = 9'd1;   // <= : below normal range
  localparam logic [FP32_EXP_W-1:0] EOFF_ONE   = 8'd1;

  typedef enum logic [1:0] {
    StIdle,
    StBusy,
    StDone
  } state_e;

  typedef enum logic [1:0] {
    KindNum,   // normal input: divider result
    KindNan,   // NaN input
    KindInf,   // zero input: result +-inf
    KindZero   // infinite input: result +-0
  } kind_e;

  state_e                state_d, state_q;
  kind_e                 kind_d, kind_q;
  logic [CNT_W-1:0]      cnt_d, cnt_q;
  logic                  sign_d, sign_q;
  logic [FP32_EXP_W-1:0] exp_d, exp_q;
  logic [FP32_MAN_W-1:0] div_d, div_q;   // divisor fraction (hidden one implied)
  logic [REM_W-1:0]      rem_d, rem_q;
  logic [RCP_QUO_W-1:0]  quo_d, quo_q;

  logic [REM_W-1:0]      divisor;
  logic                  rem_ge;
  logic [FP32_EXP_W-1:0] x_exp;
  logic                  quo_exact, guard, sticky, rnd_up;
  logic [FP32_MAN_W-1:0] frac;
  logic [FP32_MAN_W:0]   frac_r;  // MSB = carry into the exponent
  logic [EOFF_W-1:0]     exp_off;

  assign x_exp   = x_i[FP32_W-2 -: FP32_EXP_W];
  assign divisor = {1'b0, 1'b1, div_q};
  assign rem_ge  = (rem_q >= divisor);

  // ---------------------------------------------------------------------------
  // Control and divider datapath
  // ---------------------------------------------------------------------------
  always_comb begin
    state_d = state_q;
    kind_d  = kind_q;
    cnt_d   = cnt_q;
    sign_d  = sign_q;
    exp_d   = exp_q;
    div_d   = div_q;
    rem_d   = rem_q;
    quo_d   = quo_q;
    unique case (state_q)
      StIdle: begin
        if (in_valid_i) begin
          state_d = StBusy;
          cnt_d   = '0;
          sign_d  = x_i[FP32_W-1];
          exp_d   = x_exp;
          div_d   = x_i[FP32_MAN_W-1:0];
          rem_d   = REM_INIT;
          quo_d   = '0;
          if (x_exp == FP32_EXP_ONES) begin
            kind_d = (x_i[FP32_MAN_W-1:0] != '0) ? KindNan : KindZero;
          end else if (x_exp == FP32_EXP_ZERO) begin
            kind_d = KindInf;
          end else begin
            kind_d = KindNum;
          end
        end
      end
      StBusy: begin
        // one restoring-division step: quotient bit = (rem >= divisor)
        rem_d = REM_W'((rem_ge ? (rem_q - divisor) : rem_q) << 1);
        quo_d = {quo_q[RCP_QUO_W-2:0], rem_ge};
        cnt_d = cnt_q + CNT_W'(1);
        if (cnt_q == CNT_LAST) begin
          state_d = StDone;
        end
      end
      StDone: begin
        if (out_ready_i) begin
          state_d = StIdle;
        end
      end
      default: begin
        state_d = StIdle;
      end
    endcase
  end

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      state_q <= StIdle;
      kind_q  <= KindNum;
      cnt_q   <= '0;
      sign_q  <= 1'b0;
      exp_q   <= '0;
      div_q   <= '0;
      rem_q   <= '0;
      quo_q   <= '0;
    end else begin
      state_q <= state_d;
      kind_q  <= kind_d;
      cnt_q   <= cnt_d;
      sign_q  <= sign_d;
      exp_q   <= exp_d;
      div_q   <= div_d;
      rem_q   <= rem_d;
      quo_q   <= quo_d;
    end
  end

  assign in_ready_o  = (state_q == StIdle);
  assign out_valid_o = (state_q == StDone);

  // ---------------------------------------------------------------------------
  // Rounding and result selection (from the registered quotient/remainder)
  // ---------------------------------------------------------------------------
  // quo_q holds bits of weight 2^0 .. 2^-25; the quotient is >= 1 only when the
  // divisor significand is exactly 1.0 (then it is exactly 1.0).
  assign quo_exact = quo_q[RCP_QUO_W-1];

  always_comb begin
    if (quo_exact) begin
      frac   = quo_q[RCP_QUO_W-2 -: FP32_MAN_W];
      guard  = quo_q[1];
      sticky = quo_q[0] | (rem_q != '0);
    end else begin
      frac   = quo_q[RCP_QUO_W-3 -: FP32_MAN_W];
      guard  = quo_q[0];
      sticky = (rem_q != '0);
    end
    rnd_up  = guard & (sticky | frac[0]);
    frac_r  = {1'b0, frac} + {{FP32_MAN_W{1'b0}}, rnd_up};
    exp_off = (quo_exact ? EOFF_TOP_EXACT : EOFF_TOP_FRAC) - EOFF_W'(exp_q)
            + EOFF_W'(frac_r[FP32_MAN_W]);
  end

  always_comb begin
    unique case (kind_q)
      KindNan:  y_o = FP32_QNAN;
      KindInf:  y_o = {sign_q, FP32_POS_INF[FP32_W-2:0]};
      KindZero: y_o = {sign_q, {(FP32_W-1){1'b0}}};
      default: begin
        if (exp_off <= EOFF_UNF) begin
          y_o = {sign_q, {(FP32_W-1){1'b0}}};
        end else begin
          y_o = {sign_q, exp_off[FP32_EXP_W-1:0] - EOFF_ONE, frac_r[FP32_MAN_W-1:0]};
        end
      end
    endcase
  end

`ifndef SYNTHESIS
  // Cover points (rtl/README.md, Coverage): each special input class accepted, a result flushed
  // to zero, and back-pressure on both handshakes.
  c_nan_in:   cover property (@(posedge clk_i) disable iff (!rst_ni) in_valid_i && in_ready_o && fp32_is_nan(x_i));
  c_zero_in:  cover property (@(posedge clk_i) disable iff (!rst_ni) in_valid_i && in_ready_o && fp32_is_zero(x_i));
  c_sub_in:   cover property (@(posedge clk_i) disable iff (!rst_ni) in_valid_i && in_ready_o && fp32_is_sub(x_i));
  c_inf_in:   cover property (@(posedge clk_i) disable iff (!rst_ni) in_valid_i && in_ready_o && fp32_is_inf(x_i));
  c_flush:    cover property (@(posedge clk_i) disable iff (!rst_ni) out_valid_o && kind_q == KindNum && fp32_is_zero(y_o));
  c_in_wait:  cover property (@(posedge clk_i) disable iff (!rst_ni) in_valid_i && !in_ready_o);
  c_out_wait: cover property (@(posedge clk_i) disable iff (!rst_ni) out_valid_o && !out_ready_i);
`endif
endmodule
