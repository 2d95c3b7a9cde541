// pam_fp32_max: binary32 maximum with DAZ.
//
// Latency: combinational.
// Behaviour: y = NaN (canonical 32'h7FC0_0000) if either input is NaN;
// otherwise inputs are DAZ'd (subnormal -> zero of its sign) and y = b if
// b > a numerically, else a. -0 and +0 compare equal, so max(-0, +0) = a.

module pam_fp32_max
  import pam_fp_pkg::*;
(
  input  logic [FP32_W-1:0] a_i,
  input  logic [FP32_W-1:0] b_i,
  output logic [FP32_W-1:0] y_o
);

  localparam logic [FP32_W-1:0] KEY_ZERO = 32'h8000_0000;  // order key of +-0

  logic [FP32_W-1:0] a_daz, b_daz, key_a, key_b;
  logic              a_nan, b_nan;

  assign a_nan = (a_i[FP32_W-2 -: FP32_EXP_W] == FP32_EXP_ONES) && (a_i[FP32_MAN_W-1:0] != '0);
  assign b_nan = (b_i[FP32_W-2 -: FP32_EXP_W] == FP32_EXP_ONES) && (b_i[FP32_MAN_W-1:0] != '0);

  assign a_daz = (a_i[FP32_W-2 -: FP32_EXP_W] == FP32_EXP_ZERO) ? {a_i[FP32_W-1], {(FP32_W-1){1'b0}}}
                                                                 : a_i;
  assign b_daz = (b_i[FP32_W-2 -: FP32_EXP_W] == FP32_EXP_ZERO) ? {b_i[FP32_W-1], {(FP32_W-1){1'b0}}}
                                                                 : b_i;

  // Monotonic unsigned keys: negative -> ~x, positive -> x with MSB set, zeros equal.
  always_comb begin
    if (a_daz[FP32_W-2:0] == '0) begin
      key_a = KEY_ZERO;
    end else begin
      key_a = a_daz[FP32_W-1] ? ~a_daz : {1'b1, a_daz[FP32_W-2:0]};
    end
    if (b_daz[FP32_W-2:0] == '0) begin
      key_b = KEY_ZERO;
    end else begin
      key_b = b_daz[FP32_W-1] ? ~b_daz : {1'b1, b_daz[FP32_W-2:0]};
    end
  end

  assign y_o = (a_nan || b_nan) ? FP32_QNAN : ((key_b > key_a) ? b_daz : a_daz);

`ifndef SYNTHESIS
`ifdef PAM_COVER_FP_UNITS
  // Only in the fp lab's model (build.rs): in the PU's and RU's lanes they would halve the
  // models' speed.
  // Cover points (rtl/README.md, Coverage): each special operand class.
  always_comb begin
    c_sub_in:       cover (fp32_is_sub(a_i) || fp32_is_sub(b_i));
    c_inf_in:       cover (fp32_is_inf(a_i) || fp32_is_inf(b_i));
    c_nan_in:       cover (fp32_is_nan(a_i) || fp32_is_nan(b_i));
    c_signed_zeros: cover (fp32_is_zero(a_i) && fp32_is_zero(b_i) && a_i[31] != b_i[31]);
  end
`endif
`endif
endmodule
