// pam_fp32_from_fixed: signed fixed point (32-bit two's complement, 23
// fraction bits, i.e. value = a_i * 2^-23) -> binary32, round to nearest even.
//
// Latency: combinational.
// Special values: 0 -> +0. Every other input maps to a normal binary32
// (|value| lies in [2^-23, 2^8]), so no overflow / underflow handling.

module pam_fp32_from_fixed
  import pam_fp_pkg::*;
(
  input  logic [FP32_W-1:0] a_i,
  output logic [FP32_W-1:0] y_o
);

  localparam int unsigned FIX_FRAC_BITS = 23;
  localparam int unsigned LZC_W         = 5;
  localparam int unsigned DROP_W        = FP32_W - FP32_SIG_W;  // 8 bits below the significand
  // exponent of the leading one at bit 31, biased: 127 + 31 - 23
  localparam logic [FP32_EXP_W-1:0] EXP_TOP = 8'(FP32_BIAS + 8'(FP32_W - 1 - FIX_FRAC_BITS));

  logic                  sign;
  logic [FP32_W-1:0]     mag, norm;
  logic [LZC_W-1:0]      lzc;
  logic                  guard, sticky, rnd_up;
  logic [FP32_MAN_W:0]   frac_r;   // MSB = carry into the exponent
  logic [FP32_EXP_W-1:0] exp_y;

  assign sign = a_i[FP32_W-1];
  assign mag  = sign ? (FP32_W'(0) - a_i) : a_i;

  always_comb begin
    lzc = '0;
    for (int i = 0; i < FP32_W; i++) begin
      if (mag[i]) begin
        lzc = LZC_W'(FP32_W - 1 - i);
      end
    end
  end

  assign norm   = mag << lzc;
  assign guard  = norm[DROP_W-1];
  assign sticky = |norm[DROP_W-2:0];
  assign rnd_up = guard & (sticky | norm[DROP_W]);
  assign frac_r = {1'b0, norm[FP32_W-2:DROP_W]} + {{FP32_MAN_W{1'b0}}, rnd_up};
  assign exp_y  = EXP_TOP - FP32_EXP_W'(lzc) + FP32_EXP_W'(frac_r[FP32_MAN_W]);

  // norm[31] is 0 only for a zero input
  assign y_o = norm[FP32_W-1] ? {sign, exp_y, frac_r[FP32_MAN_W-1:0]} : '0;

endmodule
