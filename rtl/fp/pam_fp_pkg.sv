// pam_fp_pkg: shared constants of the PAM floating-point units (rtl/fp/).
//
// Numeric contract (bit-exact with src/golden/fp.rs): IEEE binary32/binary16
// encodings, round to nearest even, DAZ on every binary32 input (exponent
// field 0 -> signed zero), FTZ on every binary32 result (a result whose
// exponent after rounding to 24 bits is below the normal range -> signed
// zero), overflow -> signed infinity, every NaN result canonical.

// Include guard: lets the package file be listed more than once on a tool
// command line (e.g. explicitly first and again via rtl/fp/*.sv).
`ifndef PAM_FP_PKG_SV
`define PAM_FP_PKG_SV

package pam_fp_pkg;

  // The constants below are the package's public API; a given design need not
  // use all of them, so unused-parameter warnings are waived for this package.
  /* verilator lint_off UNUSEDPARAM */

  // ---------------------------------------------------------------------------
  // Field layout
  // ---------------------------------------------------------------------------
  localparam int unsigned FP32_W      = 32;
  localparam int unsigned FP32_EXP_W  = 8;
  localparam int unsigned FP32_MAN_W  = 23;
  localparam int unsigned FP32_SIG_W  = FP32_MAN_W + 1;  // with hidden bit
  localparam int unsigned FP16_W      = 16;
  localparam int unsigned FP16_EXP_W  = 5;
  localparam int unsigned FP16_MAN_W  = 10;

  localparam logic [FP32_EXP_W-1:0] FP32_EXP_ZERO = '0;
  localparam logic [FP32_EXP_W-1:0] FP32_EXP_ONES = '1;
  localparam logic [FP32_EXP_W-1:0] FP32_BIAS     = 8'd127;
  localparam logic [FP16_EXP_W-1:0] FP16_EXP_ONES = '1;
  localparam logic [FP16_EXP_W-1:0] FP16_EXP_ZERO = '0;

  // ---------------------------------------------------------------------------
  // Special encodings
  // ---------------------------------------------------------------------------
  localparam logic [FP32_W-1:0] FP32_QNAN    = 32'h7FC0_0000;
  localparam logic [FP32_W-1:0] FP32_POS_INF = 32'h7F80_0000;
  localparam logic [FP32_W-1:0] FP32_NEG_INF = 32'hFF80_0000;
  localparam logic [FP32_W-1:0] FP32_ONE     = 32'h3F80_0000;
  localparam logic [FP16_W-1:0] FP16_QNAN    = 16'h7E00;

  // ---------------------------------------------------------------------------
  // exp / ln constants
  // ---------------------------------------------------------------------------
  localparam logic [FP32_W-1:0] LOG2E_F32 = 32'h3FB8_AA3B;  // log2(e)
  localparam logic [FP32_W-1:0] LN2_F32   = 32'h3F31_7218;  // ln(2)

  // Piecewise-linear tables: 2^LUT_SEG_BITS segments, LUT_ENTRIES knots,
  // LUT_FRAC_BITS bits of interpolation fraction inside a segment.
  localparam int unsigned LUT_SEG_BITS  = 7;
  localparam int unsigned LUT_FRAC_BITS = 16;
  localparam int unsigned LUT_ENTRIES   = 129;
  localparam int unsigned LUT_IDX_W     = 8;
  localparam int unsigned EXP2_LUT_W    = 25;  // knots in [2^23, 2^24]
  localparam int unsigned LOG2_LUT_W    = 24;  // knots in [0, 2^23]
  localparam int unsigned LUT_DIFF_W    = 17;  // max knot difference < 2^17

  // exp range limits on t = x * log2(e): +inf if t >= 128.0, +0 if t < -126.0
  localparam logic [FP32_EXP_W-1:0] EXP_T_OVF_EXP = 8'd134;        // biased exp of 128.0
  localparam logic [FP32_W-2:0]     EXP_T_MIN_MAG = 31'h42FC_0000;  // |-126.0|

  // ---------------------------------------------------------------------------
  // Reciprocal divider
  // ---------------------------------------------------------------------------
  localparam int unsigned RCP_QUO_W   = 26;  // quotient bits: 2^0 .. 2^-25
  localparam int unsigned RCP_LATENCY = 26;  // accept edge -> out_valid_o

  /* verilator lint_on UNUSEDPARAM */

  // ---------------------------------------------------------------------------
  // Operand classes, for the cover points of the units (rtl/README.md, Coverage)
  // ---------------------------------------------------------------------------
  // A class ignores the sign bit.
  /* verilator lint_off UNUSEDSIGNAL */
  function automatic logic fp32_is_nan(input logic [FP32_W-1:0] x);
    return x[30:23] == FP32_EXP_ONES && x[22:0] != '0;
  endfunction
  function automatic logic fp32_is_inf(input logic [FP32_W-1:0] x);
    return x[30:23] == FP32_EXP_ONES && x[22:0] == '0;
  endfunction
  function automatic logic fp32_is_zero(input logic [FP32_W-1:0] x);
    return x[30:0] == '0;
  endfunction
  function automatic logic fp32_is_sub(input logic [FP32_W-1:0] x);
    return x[30:23] == FP32_EXP_ZERO && x[22:0] != '0;
  endfunction
  // Zero, subnormal (a zero under DAZ), infinity or NaN: not a normal number.
  function automatic logic fp32_is_special(input logic [FP32_W-1:0] x);
    return x[30:23] == FP32_EXP_ZERO || x[30:23] == FP32_EXP_ONES;
  endfunction
  function automatic logic fp16_is_nan(input logic [FP16_W-1:0] x);
    return x[14:10] == FP16_EXP_ONES && x[9:0] != '0;
  endfunction
  function automatic logic fp16_is_inf(input logic [FP16_W-1:0] x);
    return x[14:10] == FP16_EXP_ONES && x[9:0] == '0;
  endfunction
  function automatic logic fp16_is_zero(input logic [FP16_W-1:0] x);
    return x[14:0] == '0;
  endfunction
  function automatic logic fp16_is_sub(input logic [FP16_W-1:0] x);
    return x[14:10] == FP16_EXP_ZERO && x[9:0] != '0;
  endfunction
  /* verilator lint_on UNUSEDSIGNAL */

endpackage

`endif  // PAM_FP_PKG_SV
