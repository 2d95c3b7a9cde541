// pam_fp32_to_fp16: binary32 -> binary16, round to nearest even with gradual
// underflow (binary16 subnormals are produced; a value rounding up to the
// smallest normal becomes it).
//
// Latency: combinational.
// Special values: NaN -> canonical 16'h7E00; +-inf and overflow -> +-inf;
// +-0 and binary32 subnormals (DAZ) -> +-0; |x| <= 2^-25 -> +-0.

module pam_fp32_to_fp16
  import pam_fp_pkg::*;
(
  input  logic [FP32_W-1:0] a_i,
  output logic [FP16_W-1:0] y_o
);

  // binary32 biased exponents delimiting the binary16 ranges
  localparam logic [FP32_EXP_W-1:0] EXP_OVF_GT  = 8'd142;  // e > 15 -> inf
  localparam logic [FP32_EXP_W-1:0] EXP_UNF_LT  = 8'd102;  // e < -25 -> zero
  localparam logic [FP32_EXP_W-1:0] EXP_NORM_GE = 8'd113;  // e >= -14 -> normal
  localparam int unsigned SH_W   = 4;                      // extra shift 0..11
  localparam int unsigned KEEP_W = FP16_MAN_W + 1;         // 11
  localparam int unsigned PAD_W  = 11;                     // room for the extra shift
  localparam int unsigned EXT_W  = FP32_SIG_W + PAD_W;     // 35
  localparam int unsigned DROP_W = EXT_W - KEEP_W;         // 24
  localparam logic [FP16_W-2:0] FP16_INF_MAG = 15'h7C00;

  logic                  sign;
  logic [FP32_EXP_W-1:0] exp32;
  logic                  is_nan, is_inf, is_zero, ovf, unf, normal;
  logic [SH_W-1:0]       sh;
  logic [EXT_W-1:0]      ext;
  logic [KEEP_W-1:0]     kept;
  logic                  guard, sticky, rnd_up;
  logic [FP16_W-2:0]     base;

  assign sign    = a_i[FP32_W-1];
  assign exp32   = a_i[FP32_W-2 -: FP32_EXP_W];
  assign is_nan  = (exp32 == FP32_EXP_ONES) && (a_i[FP32_MAN_W-1:0] != '0);
  assign is_inf  = (exp32 == FP32_EXP_ONES);
  assign is_zero = (exp32 == FP32_EXP_ZERO);
  assign ovf     = (exp32 > EXP_OVF_GT);
  assign unf     = (exp32 < EXP_UNF_LT);
  assign normal  = (exp32 >= EXP_NORM_GE);

  // Keep 11 bits for normals (drop 13); subnormals drop 13 + (113 - exp) bits.
  assign sh     = normal ? '0 : SH_W'(EXP_NORM_GE - exp32);
  assign ext    = {1'b1, a_i[FP32_MAN_W-1:0], {PAD_W{1'b0}}} >> sh;
  assign kept   = ext[EXT_W-1 -: KEEP_W];
  assign guard  = ext[DROP_W-1];
  assign sticky = |ext[DROP_W-2:0];
  assign rnd_up = guard & (sticky | kept[0]);
  // normal: ((exp - 113) << 10) + kept (kept carries the hidden bit into the exponent)
  assign base   = normal ? ({FP16_EXP_W'(exp32 - EXP_NORM_GE), {FP16_MAN_W{1'b0}}}
                            + (FP16_W-1)'(kept))
                         : (FP16_W-1)'(kept);

  always_comb begin
    if (is_nan) begin
      y_o = FP16_QNAN;
    end else if (is_inf || ovf) begin
      y_o = {sign, FP16_INF_MAG};
    end else if (is_zero || unf) begin
      y_o = {sign, {(FP16_W-1){1'b0}}};
    end else begin
      y_o = {sign, base + (FP16_W-1)'(rnd_up)};
    end
  end

`ifndef SYNTHESIS
`ifdef PAM_COVER_FP_UNITS
  // Only in the fp lab's model (build.rs): in the PU's and RU's lanes they would halve the
  // models' speed.
  // Cover points (rtl/README.md, Coverage): each special input class, and the special results.
  always_comb begin
    c_zero_in:   cover (fp32_is_zero(a_i));
    c_sub_in:    cover (fp32_is_sub(a_i));
    c_inf_in:    cover (fp32_is_inf(a_i));
    c_nan_in:    cover (fp32_is_nan(a_i));
    c_overflow:  cover (!fp32_is_special(a_i) && fp16_is_inf(y_o));
    c_sub_out:   cover (fp16_is_sub(y_o));
    c_underflow: cover (!fp32_is_special(a_i) && fp16_is_zero(y_o));
  end
`endif
`endif
endmodule
