// pam_fp32_add: IEEE binary32 adder, round to nearest even, DAZ/FTZ.
//
// Latency: combinational.
// Special values: any NaN input or inf + -inf -> canonical NaN 32'h7FC0_0000;
// inf + finite -> that inf; subnormal inputs count as zeros (DAZ);
// 0 + x -> x; (-0) + (-0) -> -0, other zero sums (incl. exact cancellation
// x + -x) -> +0; overflow after rounding -> signed inf; a result whose exponent
// after rounding is below the normal range -> signed zero (FTZ).
//
// Datapath: swap so |x| >= |y|, align y with guard/round/sticky bits, add or
// subtract, normalise (leading-zero count), round.

module pam_fp32_add
  import pam_fp_pkg::*;
(
  input  logic [FP32_W-1:0] a_i,
  input  logic [FP32_W-1:0] b_i,
  output logic [FP32_W-1:0] y_o
);

  localparam int unsigned GRS_W   = 3;                        // guard, round, sticky
  localparam int unsigned AL_W    = FP32_SIG_W + GRS_W;       // 27: aligned operand
  localparam int unsigned SUM_W   = AL_W + 1;                 // 28: with carry
  localparam int unsigned NORM_W  = AL_W - 1;                 // 26: normalised, hidden bit dropped
  localparam int unsigned EXT_W   = FP32_SIG_W + AL_W;        // 51: alignment shifter
  localparam int unsigned SH_W    = 5;
  localparam logic [SH_W-1:0] SH_MAX = 5'(AL_W);              // shifting further only feeds sticky
  localparam int unsigned EOFF_W  = FP32_EXP_W + 2;           // 10
  // Exponent arithmetic is done with an offset so it never goes negative.
  localparam logic [EOFF_W-1:0] EXP_OFFSET = 10'd32;
  localparam logic [EOFF_W-1:0] EOFF_UNF   = 10'd32;           // <= : below normal range
  localparam logic [EOFF_W-1:0] EOFF_OVF   = 10'd287;          // >= : 255 + offset, overflow
  localparam logic [FP32_EXP_W-1:0] EXP_OFFSET_8 = 8'd32;

  logic                  sign_a, sign_b, sign_x;
  logic [FP32_EXP_W-1:0] exp_a, exp_b, exp_x, exp_y, exp_d;
  logic [FP32_MAN_W-1:0] frac_x, frac_y;
  logic                  a_zero, b_zero, a_inf, b_inf, a_nan, b_nan;
  logic                  swap, eff_sub;
  logic [SH_W-1:0]       shamt;
  logic [EXT_W-1:0]      y_ext;
  logic [AL_W-1:0]       x_al, y_al;
  logic [SUM_W-1:0]      sum;
  logic [SH_W-1:0]       lzc;
  logic [AL_W-1:0]       sum_shl;
  logic [NORM_W-1:0]     norm;
  logic                  sum_zero, guard, sticky, rnd_up;
  logic [FP32_MAN_W:0]   frac_r;    // MSB = carry into the exponent
  logic [EOFF_W-1:0]     exp_off;
  logic [FP32_EXP_W-1:0] exp_res;

  assign sign_a = a_i[FP32_W-1];
  assign sign_b = b_i[FP32_W-1];
  assign exp_a  = a_i[FP32_W-2 -: FP32_EXP_W];
  assign exp_b  = b_i[FP32_W-2 -: FP32_EXP_W];
  assign a_zero = (exp_a == FP32_EXP_ZERO);
  assign b_zero = (exp_b == FP32_EXP_ZERO);
  assign a_inf  = (exp_a == FP32_EXP_ONES) && (a_i[FP32_MAN_W-1:0] == '0);
  assign b_inf  = (exp_b == FP32_EXP_ONES) && (b_i[FP32_MAN_W-1:0] == '0);
  assign a_nan  = (exp_a == FP32_EXP_ONES) && (a_i[FP32_MAN_W-1:0] != '0);
  assign b_nan  = (exp_b == FP32_EXP_ONES) && (b_i[FP32_MAN_W-1:0] != '0);

  // x = operand of larger magnitude, y = the other one.
  assign swap    = (b_i[FP32_W-2:0] > a_i[FP32_W-2:0]);
  assign sign_x  = swap ? sign_b : sign_a;
  assign exp_x   = swap ? exp_b : exp_a;
  assign exp_y   = swap ? exp_a : exp_b;
  assign frac_x  = swap ? b_i[FP32_MAN_W-1:0] : a_i[FP32_MAN_W-1:0];
  assign frac_y  = swap ? a_i[FP32_MAN_W-1:0] : b_i[FP32_MAN_W-1:0];
  assign eff_sub = sign_a ^ sign_b;
  assign exp_d   = exp_x - exp_y;
  assign shamt   = (exp_d > FP32_EXP_W'(SH_MAX)) ? SH_MAX : SH_W'(exp_d);

  // Alignment: bits shifted below the GRS window are OR-ed into the sticky bit.
  assign y_ext = {1'b1, frac_y, {AL_W{1'b0}}} >> shamt;
  assign y_al  = {y_ext[EXT_W-1 -: AL_W-1], y_ext[FP32_SIG_W] | (|y_ext[FP32_SIG_W-1:0])};
  assign x_al  = {1'b1, frac_x, {GRS_W{1'b0}}};

  assign sum = eff_sub ? ({1'b0, x_al} - {1'b0, y_al}) : ({1'b0, x_al} + {1'b0, y_al});

  always_comb begin
    lzc = '0;
    for (int i = 0; i < AL_W; i++) begin
      if (sum[i]) begin
        lzc = SH_W'(AL_W - 1 - i);
      end
    end
  end

  assign sum_shl = sum[AL_W-1:0] << lzc;

  always_comb begin
    if (sum[SUM_W-1]) begin
      // carry out of an effective addition: shift right by one, keep sticky
      norm     = {sum[SUM_W-2:2], sum[1] | sum[0]};
      sum_zero = 1'b0;
    end else begin
      norm     = sum_shl[NORM_W-1:0];
      sum_zero = ~sum_shl[AL_W-1];
    end
    guard   = norm[GRS_W-1];
    sticky  = |norm[GRS_W-2:0];
    rnd_up  = guard & (sticky | norm[GRS_W]);
    frac_r  = {1'b0, norm[NORM_W-1:GRS_W]} + {{FP32_MAN_W{1'b0}}, rnd_up};
    exp_off = EOFF_W'(exp_x) + EXP_OFFSET + EOFF_W'(sum[SUM_W-1]) + EOFF_W'(frac_r[FP32_MAN_W])
            - (sum[SUM_W-1] ? '0 : EOFF_W'(lzc));
    exp_res = exp_off[FP32_EXP_W-1:0] - EXP_OFFSET_8;
  end

  always_comb begin
    if (a_nan || b_nan || (a_inf && b_inf && eff_sub)) begin
      y_o = FP32_QNAN;
    end else if (a_inf) begin
      y_o = a_i;
    end else if (b_inf) begin
      y_o = b_i;
    end else if (a_zero && b_zero) begin
      y_o = {sign_a & sign_b, {(FP32_W-1){1'b0}}};
    end else if (a_zero) begin
      y_o = b_i;
    end else if (b_zero) begin
      y_o = a_i;
    end else if (sum_zero) begin
      y_o = '0;
    end else if (exp_off >= EOFF_OVF) begin
      y_o = {sign_x, FP32_POS_INF[FP32_W-2:0]};
    end else if (exp_off <= EOFF_UNF) begin
      y_o = {sign_x, {(FP32_W-1){1'b0}}};
    end else begin
      y_o = {sign_x, exp_res, frac_r[FP32_MAN_W-1:0]};
    end
  end

`ifndef SYNTHESIS
`ifdef PAM_COVER_FP_UNITS
  // Only in the fp lab's model (build.rs): in the PU's and RU's lanes they would halve the
  // models' speed.
  // Cover points (rtl/README.md, Coverage): each special operand class, and the special results.
  always_comb begin
    c_zero_in:       cover (fp32_is_zero(a_i) || fp32_is_zero(b_i));
    c_sub_in:        cover (fp32_is_sub(a_i) || fp32_is_sub(b_i));
    c_inf_in:        cover (fp32_is_inf(a_i) || fp32_is_inf(b_i));
    c_nan_in:        cover (fp32_is_nan(a_i) || fp32_is_nan(b_i));
    c_inf_minus_inf: cover (fp32_is_inf(a_i) && fp32_is_inf(b_i) && a_i[31] != b_i[31]);
    c_overflow:      cover (!fp32_is_special(a_i) && !fp32_is_special(b_i) && fp32_is_inf(y_o));
    c_cancel:        cover (!fp32_is_special(a_i) && !fp32_is_special(b_i) && fp32_is_zero(y_o));
  end
`endif
`endif
endmodule
