// pam_fp32_exp: approximate binary32 e^x (bit-exact with fp32_exp in
// src/golden/fp.rs).
//
// Algorithm: t = fp32_mul(x, LOG2E_F32); T = floor(t * 2^23) (exact, two's
// complement); i = T >> 23, f = T[22:0], k = f[22:16], r = f[15:0];
// significand = EXP2_LUT[k] + ((EXP2_LUT[k+1] - EXP2_LUT[k]) * r >> 16);
// y = 2^i * significand * 2^-23. Max relative error ~7.5e-6 for x in [-87, 88].
//
// Latency: combinational.
// Special values: NaN -> canonical NaN; t >= 128 (incl. x = +inf) -> +inf;
// t < -126 (incl. x = -inf) -> +0; x = +-0 or subnormal -> exactly 1.0.

module pam_fp32_exp
  import pam_fp_pkg::*;
(
  input  logic [FP32_W-1:0] x_i,
  output logic [FP32_W-1:0] y_o
);

  localparam int unsigned FIX_W   = 31;                  // T fits in [-2^30, 2^30)
  localparam int unsigned MAG_W   = FIX_W - 1;           // |t| * 2^23 < 2^30
  localparam int unsigned LSH_W   = 3;                   // left shift 0..6 (t_exp 127..133)
  localparam int unsigned RSH_W   = 5;                   // right shift 1..24 (saturated)
  localparam logic [RSH_W-1:0] RSH_MAX = 5'(FP32_SIG_W); // shifting further only feeds sticky
  localparam int unsigned RSH_EXT_W = 2 * FP32_SIG_W;    // 48
  localparam int unsigned PROD_W  = LUT_DIFF_W + LUT_FRAC_BITS;  // 33

  logic [FP32_W-1:0]     t;
  logic                  t_sign, t_nan, t_zero, ovf, unf;
  logic [FP32_EXP_W-1:0] t_exp, rsh_full;
  logic [LSH_W-1:0]      lsh;
  logic [RSH_W-1:0]      rsh;
  logic [RSH_EXT_W-1:0]  rsh_ext;
  logic [MAG_W-1:0]      mag;     // floor(|t| * 2^23)
  logic                  rem;     // |t| * 2^23 had nonzero dropped bits
  logic [FIX_W-1:0]      fix;     // T = floor(t * 2^23)
  logic [LUT_SEG_BITS-1:0]  seg;
  logic [LUT_FRAC_BITS-1:0] frac;
  logic [EXP2_LUT_W-1:0] lut_lo, lut_hi;
  logic [LUT_DIFF_W-1:0] lut_diff;
  logic [PROD_W-1:0]     interp_prod;
  logic [FP32_MAN_W-1:0] man_y;
  logic [FP32_EXP_W-1:0] exp_y;

  pam_fp32_mul u_mul (
    .a_i (x_i),
    .b_i (LOG2E_F32),
    .y_o (t)
  );

  assign t_sign = t[FP32_W-1];
  assign t_exp  = t[FP32_W-2 -: FP32_EXP_W];
  assign t_nan  = (t_exp == FP32_EXP_ONES) && (t[FP32_MAN_W-1:0] != '0);
  assign t_zero = (t_exp == FP32_EXP_ZERO);
  assign ovf    = ~t_sign && (t_exp >= EXP_T_OVF_EXP);
  assign unf    = t_sign && (t[FP32_W-2:0] > EXP_T_MIN_MAG);

  // |t| * 2^23 = {1, t_frac} * 2^(t_exp - 127)
  assign lsh      = LSH_W'(t_exp - FP32_BIAS);
  assign rsh_full = FP32_BIAS - t_exp;
  assign rsh      = (rsh_full > FP32_EXP_W'(RSH_MAX)) ? RSH_MAX : RSH_W'(rsh_full);
  assign rsh_ext  = {1'b1, t[FP32_MAN_W-1:0], {FP32_SIG_W{1'b0}}} >> rsh;

  always_comb begin
    if (t_zero) begin
      mag = '0;
      rem = 1'b0;
    end else if (t_exp >= FP32_BIAS) begin
      mag = MAG_W'({1'b1, t[FP32_MAN_W-1:0]}) << lsh;
      rem = 1'b0;
    end else begin
      mag = MAG_W'(rsh_ext[RSH_EXT_W-1 -: FP32_SIG_W]);
      rem = |rsh_ext[FP32_SIG_W-1:0];
    end
    // floor: a negative value with dropped bits rounds towards -inf
    fix = t_sign ? (FIX_W'(0) - {1'b0, mag} - FIX_W'(rem)) : {1'b0, mag};
  end

  assign seg  = fix[FP32_MAN_W-1 -: LUT_SEG_BITS];
  assign frac = fix[LUT_FRAC_BITS-1:0];

  pam_exp2_lut u_lut_lo (
    .idx_i (LUT_IDX_W'(seg)),
    .val_o (lut_lo)
  );

  pam_exp2_lut u_lut_hi (
    .idx_i (LUT_IDX_W'(seg) + LUT_IDX_W'(1)),
    .val_o (lut_hi)
  );

  assign lut_diff    = LUT_DIFF_W'(lut_hi - lut_lo);
  assign interp_prod = PROD_W'(lut_diff) * PROD_W'(frac);
  // significand in [2^23, 2^24): the fraction is its low 23 bits
  assign man_y = FP32_MAN_W'(lut_lo + EXP2_LUT_W'(interp_prod >> LUT_FRAC_BITS));
  assign exp_y = fix[FIX_W-1 -: FP32_EXP_W] + FP32_BIAS;

  always_comb begin
    if (t_nan) begin
      y_o = FP32_QNAN;
    end else if (ovf) begin
      y_o = FP32_POS_INF;
    end else if (unf) begin
      y_o = '0;
    end else begin
      y_o = {1'b0, exp_y, man_y};
    end
  end

`ifndef SYNTHESIS
`ifdef PAM_COVER_FP_UNITS
  // Only in the fp lab's model (build.rs): in the PU's and RU's lanes they would halve the
  // models' speed.
  // Cover points (rtl/README.md, Coverage): each special input class, and the special results.
  always_comb begin
    c_zero_in:    cover (fp32_is_zero(x_i));
    c_sub_in:     cover (fp32_is_sub(x_i));
    c_pos_inf_in: cover (fp32_is_inf(x_i) && !x_i[31]);
    c_neg_inf_in: cover (fp32_is_inf(x_i) && x_i[31]);
    c_nan_in:     cover (fp32_is_nan(x_i));
    c_overflow:   cover (!fp32_is_special(x_i) && fp32_is_inf(y_o));
    c_flush:      cover (!fp32_is_special(x_i) && fp32_is_zero(y_o));
  end
`endif
`endif
endmodule
