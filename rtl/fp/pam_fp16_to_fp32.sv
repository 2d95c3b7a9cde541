// pam_fp16_to_fp32: IEEE binary16 -> binary32 conversion (exact).
//
// Latency: combinational.
// Special values: +-0 -> +-0; binary16 subnormals become normal binary32
// values exactly; +-inf -> +-inf; any NaN -> canonical 32'h7FC0_0000.

module pam_fp16_to_fp32
  import pam_fp_pkg::*;
(
  input  logic [FP16_W-1:0] a_i,
  output logic [FP32_W-1:0] y_o
);

  localparam logic [FP32_EXP_W-1:0] EXP_REBIAS   = 8'd112;  // 127 - 15
  localparam logic [FP32_EXP_W-1:0] SUB_EXP_BASE = 8'd103;  // 127 - 24
  localparam int unsigned           MAN_PAD_W    = FP32_MAN_W - FP16_MAN_W;  // 13
  localparam int unsigned           LEAD_W       = 4;
  localparam logic [LEAD_W-1:0]     SUB_SHIFT    = 4'(FP16_MAN_W);

  logic                  sign;
  logic [FP16_EXP_W-1:0] exp16;
  logic [FP16_MAN_W-1:0] man16;
  logic [LEAD_W-1:0]     lead;     // index of the leading one of a subnormal
  logic [FP32_MAN_W-1:0] sub_man;  // normalised fraction of a subnormal

  assign sign  = a_i[FP16_W-1];
  assign exp16 = a_i[FP16_W-2 -: FP16_EXP_W];
  assign man16 = a_i[FP16_MAN_W-1:0];

  always_comb begin
    lead = '0;
    for (int i = 0; i < FP16_MAN_W; i++) begin
      if (man16[i]) begin
        lead = LEAD_W'(i);
      end
    end
  end

  // Move the leading one just above bit 22 (it falls off: hidden bit).
  assign sub_man = {man16, {MAN_PAD_W{1'b0}}} << (SUB_SHIFT - lead);

  always_comb begin
    if (exp16 == FP16_EXP_ONES) begin
      y_o = (man16 == '0) ? {sign, FP32_POS_INF[FP32_W-2:0]} : FP32_QNAN;
    end else if (exp16 == FP16_EXP_ZERO) begin
      if (man16 == '0) begin
        y_o = {sign, {(FP32_W-1){1'b0}}};
      end else begin
        y_o = {sign, SUB_EXP_BASE + FP32_EXP_W'(lead), sub_man};
      end
    end else begin
      y_o = {sign, FP32_EXP_W'(exp16) + EXP_REBIAS, man16, {MAN_PAD_W{1'b0}}};
    end
  end

`ifndef SYNTHESIS
`ifdef PAM_COVER_FP_UNITS
  // Only in the fp lab's model (build.rs): in the PU's and RU's lanes they would halve the
  // models' speed.
  // Cover points (rtl/README.md, Coverage): each special input class through the unit.
  always_comb begin
    c_zero_in: cover (fp16_is_zero(a_i));
    c_sub_in:  cover (fp16_is_sub(a_i));
    c_inf_in:  cover (fp16_is_inf(a_i));
    c_nan_in:  cover (fp16_is_nan(a_i));
  end
`endif
`endif
endmodule
