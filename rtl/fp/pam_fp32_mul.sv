// pam_fp32_mul: IEEE binary32 multiplier, round to nearest even, DAZ/FTZ.
//
// Latency: combinational.
// Special values: any NaN input or inf * 0 -> canonical NaN 32'h7FC0_0000;
// inf * finite -> inf with sign a^b; 0 * finite -> zero with sign a^b
// (subnormal inputs count as zeros, DAZ); overflow after rounding -> signed
// inf; a result whose exponent after rounding to 24 bits is below the normal
// range -> zero with sign a^b (FTZ).

module pam_fp32_mul
  import pam_fp_pkg::*;
(
  input  logic [FP32_W-1:0] a_i,
  input  logic [FP32_W-1:0] b_i,
  output logic [FP32_W-1:0] y_o
);

  localparam int unsigned PROD_W    = 2 * FP32_SIG_W;    // 48
  localparam int unsigned EXP_SUM_W = FP32_EXP_W + 2;    // 10
  // exp_sum = ea + eb + norm + carry; the biased result exponent is exp_sum - 127.
  localparam logic [EXP_SUM_W-1:0] EXP_SUM_UNF = 10'd127;  // <= : below normal range
  localparam logic [EXP_SUM_W-1:0] EXP_SUM_OVF = 10'd382;  // >= : 127 + 255, overflow

  logic                  sign_y;
  logic [FP32_EXP_W-1:0] exp_a, exp_b;
  logic                  a_zero, b_zero, a_inf, b_inf, a_nan, b_nan;
  logic [PROD_W-1:0]     prod;
  logic [FP32_MAN_W-1:0] frac_n;   // fraction after normalisation (hidden bit dropped)
  logic                  guard, sticky, rnd_up;
  logic [FP32_MAN_W:0]   frac_r;   // rounded fraction, MSB = carry into the exponent
  logic [EXP_SUM_W-1:0]  exp_sum;
  logic [FP32_EXP_W-1:0] exp_y;

  assign sign_y = a_i[FP32_W-1] ^ b_i[FP32_W-1];
  assign exp_a  = a_i[FP32_W-2 -: FP32_EXP_W];
  assign exp_b  = b_i[FP32_W-2 -: FP32_EXP_W];
  assign a_zero = (exp_a == FP32_EXP_ZERO);
  assign b_zero = (exp_b == FP32_EXP_ZERO);
  assign a_inf  = (exp_a == FP32_EXP_ONES) && (a_i[FP32_MAN_W-1:0] == '0);
  assign b_inf  = (exp_b == FP32_EXP_ONES) && (b_i[FP32_MAN_W-1:0] == '0);
  assign a_nan  = (exp_a == FP32_EXP_ONES) && (a_i[FP32_MAN_W-1:0] != '0);
  assign b_nan  = (exp_b == FP32_EXP_ONES) && (b_i[FP32_MAN_W-1:0] != '0);

  assign prod = PROD_W'({1'b1, a_i[FP32_MAN_W-1:0]}) * PROD_W'({1'b1, b_i[FP32_MAN_W-1:0]});

  always_comb begin
    // prod is in [2^46, 2^48): normalise so the leading one is the hidden bit.
    if (prod[PROD_W-1]) begin
      frac_n = prod[PROD_W-2 -: FP32_MAN_W];
      guard  = prod[PROD_W-2-FP32_MAN_W];
      sticky = |prod[PROD_W-3-FP32_MAN_W:0];
    end else begin
      frac_n = prod[PROD_W-3 -: FP32_MAN_W];
      guard  = prod[PROD_W-3-FP32_MAN_W];
      sticky = |prod[PROD_W-4-FP32_MAN_W:0];
    end
    rnd_up  = guard & (sticky | frac_n[0]);
    frac_r  = {1'b0, frac_n} + {{FP32_MAN_W{1'b0}}, rnd_up};
    exp_sum = EXP_SUM_W'(exp_a) + EXP_SUM_W'(exp_b)
            + EXP_SUM_W'(prod[PROD_W-1]) + EXP_SUM_W'(frac_r[FP32_MAN_W]);
    exp_y   = exp_sum[FP32_EXP_W-1:0] - FP32_BIAS;
  end

  always_comb begin
    if (a_nan || b_nan || (a_inf && b_zero) || (b_inf && a_zero)) begin
      y_o = FP32_QNAN;
    end else if (a_inf || b_inf || (exp_sum >= EXP_SUM_OVF)) begin
      y_o = {sign_y, FP32_POS_INF[FP32_W-2:0]};
    end else if (a_zero || b_zero || (exp_sum <= EXP_SUM_UNF)) begin
      y_o = {sign_y, {(FP32_W-1){1'b0}}};
    end else begin
      y_o = {sign_y, exp_y, frac_r[FP32_MAN_W-1:0]};
    end
  end

`ifndef SYNTHESIS
`ifdef PAM_COVER_FP_UNITS
  // Only in the fp lab's model (build.rs): in the PU's and RU's lanes they would halve the
  // models' speed.
  // Cover points (rtl/README.md, Coverage): each special operand class, and the special results.
  always_comb begin
    c_zero_in:      cover (fp32_is_zero(a_i) || fp32_is_zero(b_i));
    c_sub_in:       cover (fp32_is_sub(a_i) || fp32_is_sub(b_i));
    c_inf_in:       cover (fp32_is_inf(a_i) || fp32_is_inf(b_i));
    c_nan_in:       cover (fp32_is_nan(a_i) || fp32_is_nan(b_i));
    c_zero_times_inf: cover ((fp32_is_zero(a_i) && fp32_is_inf(b_i)) || (fp32_is_inf(a_i) && fp32_is_zero(b_i)));
    c_overflow:     cover (!fp32_is_special(a_i) && !fp32_is_special(b_i) && fp32_is_inf(y_o));
    c_flush:        cover (!fp32_is_special(a_i) && !fp32_is_special(b_i) && fp32_is_zero(y_o));
  end
`endif
`endif
endmodule
