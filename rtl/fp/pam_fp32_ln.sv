// pam_fp32_ln: approximate binary32 natural logarithm (bit-exact with fp32_ln
// in src/golden/fp.rs).
//
// Algorithm: e = biased_exp - 127, k = frac[22:16], r = frac[15:0];
// y = LOG2_LUT[k] + ((LOG2_LUT[k+1] - LOG2_LUT[k]) * r >> 16) (log2 of the
// significand, 23 fraction bits); L = e * 2^23 + y (signed fixed point);
// result = fp32_mul(fixed_to_fp32(L * 2^-23), LN2_F32).
// Error: absolute <= 7.7e-6 for x in [0.5, 2], relative <= 1.11e-5 elsewhere.
//
// Latency: combinational.
// Special values: NaN -> canonical NaN; x < 0 (incl. -inf, not -0) -> NaN;
// +-0 and subnormals (DAZ) -> -inf; +inf -> +inf; ln(1) = +0.

module pam_fp32_ln
  import pam_fp_pkg::*;
(
  input  logic [FP32_W-1:0] x_i,
  output logic [FP32_W-1:0] y_o
);

  localparam int unsigned E_W    = FP32_EXP_W + 1;                 // signed unbiased exponent
  localparam int unsigned PROD_W = LUT_DIFF_W + LUT_FRAC_BITS;     // 33

  logic                     x_sign, x_nan, x_inf, x_zero;
  logic [FP32_EXP_W-1:0]    x_exp;
  logic [E_W-1:0]           e;
  logic [LUT_SEG_BITS-1:0]  seg;
  logic [LUT_FRAC_BITS-1:0] frac;
  logic [LOG2_LUT_W-1:0]    lut_lo, lut_hi;
  logic [LUT_DIFF_W-1:0]    lut_diff;
  logic [PROD_W-1:0]        interp_prod;
  logic [FP32_MAN_W-1:0]    log2_man;  // log2 of the significand, in [0, 1)
  logic [FP32_W-1:0]        log2_fix;  // L = e * 2^23 + log2_man
  logic [FP32_W-1:0]        log2_fp, ln_fp;

  assign x_sign = x_i[FP32_W-1];
  assign x_exp  = x_i[FP32_W-2 -: FP32_EXP_W];
  assign x_nan  = (x_exp == FP32_EXP_ONES) && (x_i[FP32_MAN_W-1:0] != '0);
  assign x_inf  = (x_exp == FP32_EXP_ONES) && (x_i[FP32_MAN_W-1:0] == '0);
  assign x_zero = (x_exp == FP32_EXP_ZERO);
  assign e      = E_W'(x_exp) - E_W'(FP32_BIAS);
  assign seg    = x_i[FP32_MAN_W-1 -: LUT_SEG_BITS];
  assign frac   = x_i[LUT_FRAC_BITS-1:0];

  pam_log2_lut u_lut_lo (
    .idx_i (LUT_IDX_W'(seg)),
    .val_o (lut_lo)
  );

  pam_log2_lut u_lut_hi (
    .idx_i (LUT_IDX_W'(seg) + LUT_IDX_W'(1)),
    .val_o (lut_hi)
  );

  assign lut_diff    = LUT_DIFF_W'(lut_hi - lut_lo);
  assign interp_prod = PROD_W'(lut_diff) * PROD_W'(frac);
  assign log2_man    = FP32_MAN_W'(lut_lo + LOG2_LUT_W'(interp_prod >> LUT_FRAC_BITS));
  assign log2_fix    = {e, log2_man};

  pam_fp32_from_fixed u_cvt (
    .a_i (log2_fix),
    .y_o (log2_fp)
  );

  pam_fp32_mul u_mul (
    .a_i (log2_fp),
    .b_i (LN2_F32),
    .y_o (ln_fp)
  );

  always_comb begin
    if (x_nan) begin
      y_o = FP32_QNAN;
    end else if (x_zero) begin
      y_o = FP32_NEG_INF;
    end else if (x_sign) begin
      y_o = FP32_QNAN;
    end else if (x_inf) begin
      y_o = FP32_POS_INF;
    end else begin
      y_o = ln_fp;
    end
  end

`ifndef SYNTHESIS
`ifdef PAM_COVER_FP_UNITS
  // Only in the fp lab's model (build.rs): in the PU's and RU's lanes they would halve the
  // models' speed.
  // Cover points (rtl/README.md, Coverage): each special input class, and ln 1 = 0.
  always_comb begin
    c_zero_in:    cover (fp32_is_zero(x_i));
    c_sub_in:     cover (fp32_is_sub(x_i));
    c_neg_in:     cover (x_i[31] && !fp32_is_special(x_i));
    c_pos_inf_in: cover (fp32_is_inf(x_i) && !x_i[31]);
    c_nan_in:     cover (fp32_is_nan(x_i));
    c_one_in:     cover (x_i == FP32_ONE);
  end
`endif
`endif
endmodule
