//! Bit-accurate golden model of the PAM floating-point units (`rtl/fp/*.sv`).
//!
//! Every function works on raw IEEE bit patterns (`u32` = binary32, `u16` =
//! binary16) with integer arithmetic only; the RTL in `rtl/fp/` must produce
//! exactly the same bits for every input (checked by a Verilator harness).
//!
//! # Numeric contract
//!
//! * **DAZ/FTZ.** Every FP32 input whose exponent field is 0 (zero or
//!   subnormal) is treated as a zero of its sign. A result is first rounded to
//!   24 significant bits with an unbounded exponent (round to nearest, ties to
//!   even); if its exponent is then below the normal range the result is a zero
//!   of the result's sign; if it is above, the result is an infinity.
//! * **NaN.** Any NaN result is the canonical quiet NaN [`FP32_QNAN`]
//!   (`0x7FC0_0000`), or [`FP16_QNAN`] (`0x7E00`) for binary16, whatever the
//!   input payloads.
//! * [`fp16_to_fp32`]: exact (binary16 subnormals become normal binary32 values).
//! * [`fp32_mul`] / [`fp32_add`]: IEEE RNE under DAZ/FTZ. `inf*0 = NaN`,
//!   `inf + -inf = NaN`; the sign of a zero product is the xor of the signs;
//!   exact cancellation `x + (-x) = +0`, `(-0) + (-0) = -0`.
//! * [`fp32_max`]: NaN if either input is NaN; otherwise `b` if `b > a`
//!   numerically, else `a` (so `max(-0, +0)` returns `a`); inputs are DAZ'd
//!   first, so a subnormal input comes back as a signed zero.
//! * [`fp32_exp`]: `t = fp32_mul(x, LOG2E_F32)`; NaN -> NaN; `t >= 128` -> +inf;
//!   `t < -126` -> +0; otherwise `T = floor(t * 2^23)`, `i = T >> 23`,
//!   `f = T mod 2^23`, `k = f >> 16`, `r = f mod 2^16` and the significand is
//!   the linear interpolation `EXP2_LUT[k] + ((EXP2_LUT[k+1] - EXP2_LUT[k]) * r >> 16)`
//!   with exponent `i` (`exp(0) = 1` exactly, `exp(-inf) = +0`, `exp(+inf) = +inf`).
//! * [`fp32_ln`]: NaN -> NaN; `x < 0` (incl. `-inf`) -> NaN; `±0` -> `-inf`;
//!   `+inf` -> `+inf`; otherwise `L = e * 2^23 + LOG2_LUT-interpolation(mantissa)`
//!   (a fixed-point log2 with 23 fraction bits), converted to binary32 with RNE
//!   and multiplied by `LN2_F32` with [`fp32_mul`]. `ln(1) = +0` exactly.
//! * [`fp32_recip`]: correctly rounded `1/x` under DAZ/FTZ; `±0 -> ±inf`,
//!   `±inf -> ±0`.
//! * [`fp32_to_fp16`]: IEEE RNE to binary16 with gradual underflow (binary16
//!   subnormals are produced), overflow -> `±inf`. (A binary32 subnormal always
//!   rounds to a binary16 zero, so DAZ on the input changes nothing here.)
//!
//! # Measured accuracy of the approximate units
//!
//! Measured exhaustively over every binary32 input in the stated ranges,
//! against `f64::exp` / `f64::ln` of the (exact) input:
//!
//! * `fp32_exp`, relative error `|y - e^x| / e^x`:
//!   x in `[-87, 0]`: max 7.49e-6; x in `[0, 88]`: max 5.73e-6;
//!   x in `[-1, 1]`: max 3.76e-6. The table interpolation contributes up to
//!   ~3.7e-6; the rest comes from rounding `t = x * log2(e)` to 24 bits, which
//!   grows with `|x|`. For x below about -87.34 (`t < -126`) the result is +0.
//! * `fp32_ln`, over every positive normal x (`[2^-126, 2^127]`):
//!   absolute error `|y - ln x|` at most 7.69e-6 for x in `[0.5, 2]` (the
//!   meaningful bound near `x = 1`, where `ln x -> 0`); relative error at most
//!   1.11e-5 for x outside `[0.5, 2]`. (Absolute error over the whole range is
//!   at most 1.44e-5, reached where `|ln x|` is large.)
//!
//! The unit tests below re-measure these bounds on random samples and assert
//! them. The RTL is checked bit for bit against this model, so the bounds hold
//! for the hardware too.
//!
//! # Note on FTZ versus IEEE gradual underflow
//!
//! Tininess is detected after rounding to 24 bits (like x86 FTZ). A product or
//! reciprocal whose exact value lies in `[2^-126 - 2^-150, 2^-126 - 2^-151)`
//! rounds to the normal `2^-126` under IEEE gradual underflow but to zero here.
//! That narrow band is the only place where a normal IEEE result differs.

/// Canonical binary32 quiet NaN.
pub const FP32_QNAN: u32 = 0x7FC0_0000;
/// binary32 +infinity.
pub const FP32_POS_INF: u32 = 0x7F80_0000;
/// binary32 -infinity.
pub const FP32_NEG_INF: u32 = 0xFF80_0000;
/// binary32 1.0.
pub const FP32_ONE: u32 = 0x3F80_0000;
/// Canonical binary16 quiet NaN.
pub const FP16_QNAN: u16 = 0x7E00;
/// binary32 log2(e), rounded to nearest.
pub const LOG2E_F32: u32 = 0x3FB8_AA3B;
/// binary32 ln(2), rounded to nearest.
pub const LN2_F32: u32 = 0x3F31_7218;

/// `EXP2_LUT[k] = round(2^(k/128) * 2^23)`, `k = 0..=128`.
/// Must equal `rtl/fp/pam_exp2_lut.sv`.
#[rustfmt::skip]
pub const EXP2_LUT: [u32; 129] = [
    0x0800000, 0x080B1ED, 0x08164D2, 0x08218AF, 0x082CD87, 0x0838359,
    0x0843A29, 0x084F1F6, 0x085AAC3, 0x0866491, 0x0871F62, 0x087DB35,
    0x088980F, 0x08955EE, 0x08A14D5, 0x08AD4C6, 0x08B95C2, 0x08C57CA,
    0x08D1ADF, 0x08DDF04, 0x08EA43A, 0x08F6A81, 0x09031DC, 0x090FA4D,
    0x091C3D3, 0x0928E72, 0x0935A2B, 0x09426FF, 0x094F4F0, 0x095C3FF,
    0x096942D, 0x097657D, 0x09837F0, 0x0990B88, 0x099E046, 0x09AB62B,
    0x09B8D3A, 0x09C6573, 0x09D3EDA, 0x09E196E, 0x09EF532, 0x09FD228,
    0x0A0B051, 0x0A18FAF, 0x0A27043, 0x0A3520F, 0x0A43516, 0x0A51958,
    0x0A5FED7, 0x0A6E595, 0x0A7CD94, 0x0A8B6D5, 0x0A9A15B, 0x0AA8D26,
    0x0AB7A3A, 0x0AC6897, 0x0AD583F, 0x0AE4934, 0x0AF3B79, 0x0B02F0E,
    0x0B123F6, 0x0B21A32, 0x0B311C4, 0x0B40AAF, 0x0B504F3, 0x0B60094,
    0x0B6FD92, 0x0B7FBF0, 0x0B8FBAF, 0x0B9FCD2, 0x0BAFF5B, 0x0BC034A,
    0x0BD08A4, 0x0BE0F68, 0x0BF179A, 0x0C0213B, 0x0C12C4D, 0x0C238D2,
    0x0C346CD, 0x0C4563F, 0x0C5672A, 0x0C67991, 0x0C78D75, 0x0C8A2D8,
    0x0C9B9BE, 0x0CAD226, 0x0CBEC15, 0x0CD078C, 0x0CE248C, 0x0CF4319,
    0x0D06334, 0x0D184DF, 0x0D2A81E, 0x0D3CCF1, 0x0D4F35B, 0x0D61B5E,
    0x0D744FD, 0x0D87039, 0x0D99D16, 0x0DACB94, 0x0DBFBB8, 0x0DD2D82,
    0x0DE60F5, 0x0DF9613, 0x0E0CCDF, 0x0E2055B, 0x0E33F89, 0x0E47B6D,
    0x0E5B907, 0x0E6F85B, 0x0E8396A, 0x0E97C38, 0x0EAC0C7, 0x0EC0719,
    0x0ED4F30, 0x0EE9910, 0x0EFE4BA, 0x0F13231, 0x0F28177, 0x0F3D290,
    0x0F5257D, 0x0F67A41, 0x0F7D0DF, 0x0F9295A, 0x0FA83B3, 0x0FBDFED,
    0x0FD3E0C, 0x0FE9E11, 0x1000000,
];

/// `LOG2_LUT[k] = round(log2(1 + k/128) * 2^23)`, `k = 0..=128`.
/// Must equal `rtl/fp/pam_log2_lut.sv`.
#[rustfmt::skip]
pub const LOG2_LUT: [u32; 129] = [
    0x0000000, 0x0016FE5, 0x002DCF3, 0x0044734, 0x005AEB5, 0x007137F,
    0x008759C, 0x009D518, 0x00B31FB, 0x00C8C51, 0x00DE421, 0x00F3976,
    0x0108C59, 0x011DCD2, 0x0132AEA, 0x01476AA, 0x015C01A, 0x0170743,
    0x0184C2C, 0x0198EDD, 0x01ACF5E, 0x01C0DB7, 0x01D49EE, 0x01E840C,
    0x01FBC17, 0x020F216, 0x0222610, 0x023580B, 0x024880F, 0x025B622,
    0x026E24A, 0x0280C8C, 0x02934F1, 0x02A5B7C, 0x02B8034, 0x02CA320,
    0x02DC444, 0x02EE3A5, 0x030014B, 0x0311D39, 0x0323775, 0x0335004,
    0x03466EC, 0x0357C31, 0x0368FD8, 0x037A1E6, 0x038B25F, 0x039C149,
    0x03ACEA8, 0x03BDA80, 0x03CE4D5, 0x03DEDAD, 0x03EF50B, 0x03FFAF3,
    0x040FF6A, 0x0420274, 0x0430414, 0x044044F, 0x0450328, 0x04600A3,
    0x046FCC4, 0x047F78F, 0x048F107, 0x049E930, 0x04AE00D, 0x04BD5A2,
    0x04CC9F2, 0x04DBD00, 0x04EAED0, 0x04F9F65, 0x0508EC2, 0x0517CEA,
    0x05269E1, 0x05355A9, 0x0544046, 0x05529BA, 0x0561209, 0x056F934,
    0x057DF40, 0x058C42E, 0x059A802, 0x05A8ABE, 0x05B6C66, 0x05C4CFA,
    0x05D2C7F, 0x05E0AF7, 0x05EE864, 0x05FC4C9, 0x060A027, 0x0617A83,
    0x06253DD, 0x0632C39, 0x0640398, 0x064D9FE, 0x065AF6B, 0x06683E3,
    0x0675768, 0x06829FB, 0x068FBA0, 0x069CC57, 0x06A9C24, 0x06B6B08,
    0x06C3905, 0x06D061D, 0x06DD252, 0x06E9DA7, 0x06F681C, 0x07031B5,
    0x070FA73, 0x071C257, 0x0728963, 0x0734F9B, 0x07414FE, 0x074D98F,
    0x0759D50, 0x0766042, 0x0772267, 0x077E3C1, 0x078A451, 0x0796419,
    0x07A231B, 0x07AE158, 0x07B9ED2, 0x07C5B8A, 0x07D1782, 0x07DD2BC,
    0x07E8D38, 0x07F46F9, 0x0800000,
];

const SIGN_MASK: u32 = 0x8000_0000;
const ABS_MASK: u32 = 0x7FFF_FFFF;
const EXP_MASK: u32 = 0x7F80_0000;
const FRAC_MASK: u32 = 0x007F_FFFF;
const HIDDEN_BIT: u32 = 0x0080_0000;
const FRAC_BITS: u32 = 23;
const BIAS: i32 = 127;
const EXP_FIELD_MAX: i32 = 255;
/// Bits of the interpolation fraction `r` in exp/ln.
const LUT_FRAC_BITS: u32 = 16;
const LUT_FRAC_MASK: u32 = (1 << LUT_FRAC_BITS) - 1;
/// binary32 magnitude bits of 126.0 (exp underflow threshold on `t`).
const EXP_T_MIN_MAG: u32 = 0x42FC_0000;
/// Biased exponent of 128.0 (exp overflow threshold on `t`).
const EXP_T_MAX_BEXP: i32 = 134;

const FP16_SIGN: u16 = 0x8000;
const FP16_EXP_MASK: u16 = 0x7C00;
const FP16_FRAC_MASK: u16 = 0x03FF;
const FP16_POS_INF: u16 = 0x7C00;

/// True if `x` is a binary32 NaN (any payload).
pub fn fp32_is_nan(x: u32) -> bool {
    (x & EXP_MASK) == EXP_MASK && (x & FRAC_MASK) != 0
}

/// True if `h` is a binary16 NaN or infinity (exponent field all ones).
pub fn fp16_is_nan_or_inf(h: u16) -> bool {
    (h & FP16_EXP_MASK) == FP16_EXP_MASK
}

fn is_inf(x: u32) -> bool {
    (x & ABS_MASK) == EXP_MASK
}

/// Zero under DAZ (exponent field 0).
fn is_zero_daz(x: u32) -> bool {
    (x & EXP_MASK) == 0
}

/// Apply DAZ: a subnormal becomes a zero of its sign.
fn daz(x: u32) -> u32 {
    if is_zero_daz(x) {
        x & SIGN_MASK
    } else {
        x
    }
}

fn bexp(x: u32) -> i32 {
    ((x >> FRAC_BITS) & 0xFF) as i32
}

fn sig24(x: u32) -> u32 {
    (x & FRAC_MASK) | HIDDEN_BIT
}

/// Round the value `(-1)^neg * (sig + sticky*epsilon) * 2^scale` (`sig != 0`,
/// `sticky` = "some nonzero bits below sig") to 24 significant bits with RNE
/// and an unbounded exponent, then apply FTZ / overflow-to-inf.
fn round_pack(neg: bool, sig: u64, scale: i32, sticky_in: bool) -> u32 {
    debug_assert!(sig != 0);
    let lz = sig.leading_zeros();
    let n = sig << lz; // leading one at bit 63
    let mut e = 63 - lz as i32 + scale; // unbiased exponent of the leading one
    let mut kept = n >> 40; // 24 bits
    let guard = (n >> 39) & 1 == 1;
    let sticky = (n & ((1u64 << 39) - 1)) != 0 || sticky_in;
    if guard && (sticky || (kept & 1) == 1) {
        kept += 1;
        if kept == 1 << 24 {
            kept >>= 1;
            e += 1;
        }
    }
    let sign = if neg { SIGN_MASK } else { 0 };
    let biased = e + BIAS;
    if biased >= EXP_FIELD_MAX {
        sign | FP32_POS_INF
    } else if biased <= 0 {
        sign
    } else {
        sign | ((biased as u32) << FRAC_BITS) | (kept as u32 & FRAC_MASK)
    }
}

/// binary16 -> binary32, exact.
pub fn fp16_to_fp32(h: u16) -> u32 {
    let sign = ((h & FP16_SIGN) as u32) << 16;
    let e = ((h & FP16_EXP_MASK) >> 10) as u32;
    let m = (h & FP16_FRAC_MASK) as u32;
    if e == 0x1F {
        if m == 0 {
            sign | FP32_POS_INF
        } else {
            FP32_QNAN
        }
    } else if e == 0 {
        if m == 0 {
            sign
        } else {
            // value = m * 2^-24, leading one at bit p (0..=9)
            let p = 31 - m.leading_zeros();
            let exp = p + 103; // (p - 24) + 127
            sign | (exp << FRAC_BITS) | ((m << (FRAC_BITS - p)) & FRAC_MASK)
        }
    } else {
        sign | ((e + 112) << FRAC_BITS) | (m << 13)
    }
}

/// binary32 multiply, RNE, DAZ/FTZ.
pub fn fp32_mul(a: u32, b: u32) -> u32 {
    if fp32_is_nan(a) || fp32_is_nan(b) {
        return FP32_QNAN;
    }
    let sign = (a ^ b) & SIGN_MASK;
    let (az, bz) = (is_zero_daz(a), is_zero_daz(b));
    let (ai, bi) = (is_inf(a), is_inf(b));
    if (ai && bz) || (bi && az) {
        return FP32_QNAN;
    }
    if ai || bi {
        return sign | FP32_POS_INF;
    }
    if az || bz {
        return sign;
    }
    let p = sig24(a) as u64 * sig24(b) as u64;
    // a = sa * 2^(ea-150), b = sb * 2^(eb-150)
    round_pack(sign != 0, p, bexp(a) + bexp(b) - 300, false)
}

/// binary32 add, RNE, DAZ/FTZ.
pub fn fp32_add(a: u32, b: u32) -> u32 {
    if fp32_is_nan(a) || fp32_is_nan(b) {
        return FP32_QNAN;
    }
    let (ai, bi) = (is_inf(a), is_inf(b));
    if ai && bi && ((a ^ b) & SIGN_MASK) != 0 {
        return FP32_QNAN;
    }
    if ai {
        return a;
    }
    if bi {
        return b;
    }
    let (a, b) = (daz(a), daz(b));
    let (az, bz) = (is_zero_daz(a), is_zero_daz(b));
    if az && bz {
        return a & b; // -0 only if both are -0
    }
    if az {
        return b;
    }
    if bz {
        return a;
    }
    // x = larger magnitude
    let (x, y) = if (a & ABS_MASK) >= (b & ABS_MASK) { (a, b) } else { (b, a) };
    let d = (bexp(x) - bexp(y)) as u32;
    const EXT: u32 = 30; // extra low bits kept exactly; below them a sticky bit
    let big = (sig24(x) as u64) << EXT;
    let small_full = (sig24(y) as u64) << EXT;
    let small = if d >= 64 {
        1
    } else {
        let s = small_full >> d;
        if (s << d) != small_full {
            s | 1
        } else {
            s
        }
    };
    let sig = if ((x ^ y) & SIGN_MASK) != 0 { big - small } else { big + small };
    if sig == 0 {
        return 0; // exact cancellation -> +0
    }
    round_pack((x & SIGN_MASK) != 0, sig, bexp(x) - 150 - EXT as i32, false)
}

/// Total-order key for non-NaN values with -0 == +0.
fn order_key(x: u32) -> u32 {
    if (x & ABS_MASK) == 0 {
        SIGN_MASK
    } else if (x & SIGN_MASK) != 0 {
        !x
    } else {
        x | SIGN_MASK
    }
}

/// binary32 maximum: NaN if either is NaN, else `b` if `b > a`, else `a` (after DAZ).
pub fn fp32_max(a: u32, b: u32) -> u32 {
    if fp32_is_nan(a) || fp32_is_nan(b) {
        return FP32_QNAN;
    }
    let (a, b) = (daz(a), daz(b));
    if order_key(b) > order_key(a) {
        b
    } else {
        a
    }
}

/// Piecewise-linear interpolation in a 129-entry table: 7-bit segment `k`,
/// 16-bit fraction `r`.
fn lut_interp(lut: &[u32; 129], k: usize, r: u32) -> u32 {
    let lo = lut[k];
    let diff = lut[k + 1] - lut[k];
    lo + ((diff as u64 * r as u64) >> LUT_FRAC_BITS) as u32
}

/// Approximate e^x (see module doc for the exact algorithm and error bound).
pub fn fp32_exp(x: u32) -> u32 {
    let t = fp32_mul(x, LOG2E_F32);
    if fp32_is_nan(t) {
        return FP32_QNAN;
    }
    let neg = (t & SIGN_MASK) != 0;
    let et = bexp(t);
    if !neg && et >= EXP_T_MAX_BEXP {
        return FP32_POS_INF;
    }
    if neg && (t & ABS_MASK) > EXP_T_MIN_MAG {
        return 0;
    }
    // T = floor(t * 2^23); t * 2^23 = sig * 2^(et - 127)
    let big_t: i64 = if et == 0 {
        0
    } else {
        let m = sig24(t) as i64;
        let sh = et - BIAS;
        if sh >= 0 {
            let v = m << sh;
            if neg {
                -v
            } else {
                v
            }
        } else {
            let s = (-sh) as u32;
            let (q, rem) = if s >= 32 { (0, m != 0) } else { (m >> s, (m & ((1 << s) - 1)) != 0) };
            if neg {
                -q - rem as i64
            } else {
                q
            }
        }
    };
    let i = big_t >> FRAC_BITS;
    let f = (big_t & FRAC_MASK as i64) as u32;
    let k = (f >> LUT_FRAC_BITS) as usize;
    let r = f & LUT_FRAC_MASK;
    let y = lut_interp(&EXP2_LUT, k, r);
    (((i + BIAS as i64) as u32) << FRAC_BITS) | (y - HIDDEN_BIT)
}

/// Approximate ln(x) (see module doc for the exact algorithm and error bound).
pub fn fp32_ln(x: u32) -> u32 {
    if fp32_is_nan(x) {
        return FP32_QNAN;
    }
    if is_zero_daz(x) {
        return FP32_NEG_INF;
    }
    if (x & SIGN_MASK) != 0 {
        return FP32_QNAN;
    }
    if x == FP32_POS_INF {
        return FP32_POS_INF;
    }
    let e = bexp(x) - BIAS;
    let mant = x & FRAC_MASK;
    let k = (mant >> LUT_FRAC_BITS) as usize;
    let r = mant & LUT_FRAC_MASK;
    let y = lut_interp(&LOG2_LUT, k, r);
    let l = ((e as i64) << FRAC_BITS) + y as i64;
    let lf = if l == 0 { 0 } else { round_pack(l < 0, l.unsigned_abs(), -(FRAC_BITS as i32), false) };
    fp32_mul(lf, LN2_F32)
}

/// Correctly rounded 1/x, DAZ/FTZ.
pub fn fp32_recip(x: u32) -> u32 {
    if fp32_is_nan(x) {
        return FP32_QNAN;
    }
    let sign = x & SIGN_MASK;
    if is_zero_daz(x) {
        return sign | FP32_POS_INF;
    }
    if is_inf(x) {
        return sign;
    }
    // x = D * 2^(ex-150); 1/x = (2^48 / D) * 2^(102-ex)
    let d = sig24(x) as u64;
    let num = 1u64 << 48;
    round_pack(sign != 0, num / d, 102 - bexp(x), !num.is_multiple_of(d))
}

/// An `f32` as FP16 bits ([`fp32_to_fp16`]): how stimuli become the hardware's inputs.
pub fn fp16_of(x: f32) -> u16 {
    fp32_to_fp16(x.to_bits())
}

/// FP16 bits as `f64` (exact): how the hardware's inputs and outputs enter the float64
/// reference.
pub fn fp16_to_f64(h: u16) -> f64 {
    f32::from_bits(fp16_to_fp32(h)) as f64
}

/// binary32 -> binary16, RNE with gradual underflow, overflow -> inf.
pub fn fp32_to_fp16(x: u32) -> u16 {
    if fp32_is_nan(x) {
        return FP16_QNAN;
    }
    let sign = ((x >> 16) as u16) & FP16_SIGN;
    let be = bexp(x);
    if be == EXP_FIELD_MAX {
        return sign | FP16_POS_INF;
    }
    if be == 0 {
        return sign;
    }
    let e = be - BIAS;
    if e > 15 {
        return sign | FP16_POS_INF;
    }
    if e < -25 {
        return sign;
    }
    let m = sig24(x);
    let normal = e >= -14;
    let shift = if normal { 13 } else { (-1 - e) as u32 }; // 13..=24
    let kept = m >> shift;
    let guard = (m >> (shift - 1)) & 1 == 1;
    let sticky = (m & ((1 << (shift - 1)) - 1)) != 0;
    let up = guard && (sticky || (kept & 1) == 1);
    let base = if normal { (((e + 14) as u32) << 10) + kept } else { kept };
    sign | (base + up as u32) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small deterministic PRNG (SplitMix64) so the tests do not depend on a
    /// particular `rand` version.
    struct Rng(u64);
    impl Rng {
        fn next_u64(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn next_u32(&mut self) -> u32 {
            (self.next_u64() >> 32) as u32
        }
        fn below(&mut self, n: u32) -> u32 {
            ((self.next_u32() as u64 * n as u64) >> 32) as u32
        }
    }

    const N_RANDOM: usize = 1_000_000;

    const SPECIALS: &[u32] = &[
        0x0000_0000,
        0x8000_0000,
        0x0000_0001,
        0x8000_0001,
        0x007F_FFFF,
        0x807F_FFFF,
        0x0040_0000,
        0x0080_0000,
        0x8080_0000,
        0x0080_0001,
        0x7F7F_FFFF,
        0xFF7F_FFFF,
        0x7F80_0000,
        0xFF80_0000,
        0x7FC0_0000,
        0xFFC0_0000,
        0x7F80_0001,
        0xFFBF_FFFF,
        0x7FFF_FFFF,
        0x3F80_0000,
        0xBF80_0000,
        0x3F80_0001,
        0x3F7F_FFFF,
        0x4000_0000,
        0x3F00_0000,
        0x42B1_7218,
        0x42B2_0000,
        0xC2AE_AC50,
        0xC2AF_0000,
        0x4300_0000,
        0xC2FC_0000,
        0x477F_E000,
        0x477F_EFFF,
        0x477F_F000,
        0x3380_0000,
        0x3300_0000,
        0x3300_0001,
        0x3880_0000,
        0x387F_E000,
        0x387F_F000,
        0x1F80_0000,
        0x5F80_0000,
        0x0100_0000,
        0x7E80_0000,
        0x3FB8_AA3B,
        0x3F31_7218,
    ];

    /// Random bit pattern biased towards edge cases: a third uniform, a third
    /// from the special list, a third structured (special exponents / mantissas).
    fn edge_f32(rng: &mut Rng) -> u32 {
        match rng.below(3) {
            0 => rng.next_u32(),
            1 => SPECIALS[rng.below(SPECIALS.len() as u32) as usize],
            _ => {
                let sign = rng.next_u32() & SIGN_MASK;
                let exp = match rng.below(6) {
                    0 => rng.below(8),
                    1 => 255 - rng.below(8),
                    2 => 127 - 8 + rng.below(16),
                    3 => 100 + rng.below(50),
                    _ => rng.below(256),
                };
                let frac = match rng.below(5) {
                    0 => 0,
                    1 => FRAC_MASK,
                    2 => rng.next_u32() & 0xF,
                    3 => FRAC_MASK - (rng.next_u32() & 0xF),
                    _ => rng.next_u32() & FRAC_MASK,
                };
                sign | (exp << 23) | frac
            }
        }
    }

    fn f(x: u32) -> f32 {
        f32::from_bits(x)
    }

    fn is_normal_bits(x: u32) -> bool {
        let e = bexp(x);
        e != 0 && e != 255
    }

    /// FTZ reference for a nonzero exact value `p` (f64, exact) whose binary32
    /// rounding is below the normal range: rounds at 24 bits with the value
    /// scaled into range, returns either the signed min-normal or signed zero.
    fn ftz_ref_small(p: f64) -> u32 {
        let sign = if p < 0.0 { SIGN_MASK } else { 0 };
        let scaled = (p * 2f64.powi(100)) as f32; // exact scaling, single RNE to 24 bits
        if scaled.abs() >= 2f32.powi(-26) {
            sign | HIDDEN_BIT
        } else {
            sign
        }
    }

    fn ref_mul(a: u32, b: u32) -> u32 {
        let (da, db) = (daz(a), daz(b));
        let r = f(da) * f(db);
        if r.is_nan() {
            return FP32_QNAN;
        }
        let rb = r.to_bits();
        if r.is_infinite() || (r.is_normal() && r.abs() != f32::MIN_POSITIVE) {
            return rb;
        }
        // zero, subnormal or +-2^-126 (which IEEE may reach by rounding on the
        // subnormal grid while the 24-bit rounding stays below 2^-126)
        let p = f(da) as f64 * f(db) as f64; // exact
        if p == 0.0 {
            return (da ^ db) & SIGN_MASK;
        }
        ftz_ref_small(p)
    }

    fn ref_add(a: u32, b: u32) -> u32 {
        let r = f(daz(a)) + f(daz(b));
        if r.is_nan() {
            return FP32_QNAN;
        }
        let rb = r.to_bits();
        if r.is_subnormal() {
            rb & SIGN_MASK // underflow of an add is exact, so FTZ keeps its sign
        } else {
            rb
        }
    }

    fn ref_recip(x: u32) -> u32 {
        let dx = daz(x);
        let r = 1.0f32 / f(dx);
        if r.is_nan() {
            return FP32_QNAN;
        }
        if (r.is_normal() && r.abs() != f32::MIN_POSITIVE) || r.is_infinite() || dx & ABS_MASK == EXP_MASK {
            return r.to_bits();
        }
        // result below the normal range: recompute scaled by 2^100
        let scaled = 1.0f32 / (f(dx) * 2f32.powi(-100)); // operand scaling is exact here
        let sign = dx & SIGN_MASK;
        if scaled.abs() >= 2f32.powi(-26) {
            sign | HIDDEN_BIT
        } else {
            sign
        }
    }

    fn ref_max(a: u32, b: u32) -> u32 {
        if f(a).is_nan() || f(b).is_nan() {
            return FP32_QNAN;
        }
        let (da, db) = (daz(a), daz(b));
        if f(db) > f(da) {
            db
        } else {
            da
        }
    }

    fn ref_to_fp16(x: u32) -> u16 {
        let h = half::f16::from_f32(f(x));
        if h.is_nan() {
            FP16_QNAN
        } else {
            h.to_bits()
        }
    }

    #[test]
    fn tables_match_f64_math() {
        for k in 0..=128usize {
            let e = ((k as f64 / 128.0).exp2() * 8_388_608.0).round() as u32;
            let l = ((1.0 + k as f64 / 128.0).log2() * 8_388_608.0).round() as u32;
            assert_eq!(EXP2_LUT[k], e, "EXP2_LUT[{k}]");
            assert_eq!(LOG2_LUT[k], l, "LOG2_LUT[{k}]");
        }
        assert_eq!(EXP2_LUT[0], 1 << 23);
        assert_eq!(EXP2_LUT[128], 1 << 24);
        assert_eq!(LOG2_LUT[0], 0);
        assert_eq!(LOG2_LUT[128], 1 << 23);
        assert_eq!(LOG2E_F32, (std::f64::consts::LOG2_E as f32).to_bits());
        assert_eq!(LN2_F32, (std::f64::consts::LN_2 as f32).to_bits());
    }

    /// Parse `8'd<k>: val_o = <w>'d<v>;` lines of a LUT module.
    fn parse_sv_lut(path: &str) -> Vec<(usize, u32)> {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut out = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            let Some(rest) = line.strip_prefix("8'd") else {
                continue;
            };
            let (idx, rhs) = rest.split_once(':').expect("case line without ':'");
            let (_, val) = rhs.rsplit_once("'d").expect("case value not decimal");
            let val = val.trim_end_matches(';').trim();
            out.push((idx.trim().parse().unwrap(), val.parse().unwrap()));
        }
        out
    }

    #[test]
    fn tables_match_rtl() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/rtl/fp/");
        for (file, lut) in [("pam_exp2_lut.sv", &EXP2_LUT), ("pam_log2_lut.sv", &LOG2_LUT)] {
            let entries = parse_sv_lut(&format!("{dir}{file}"));
            assert_eq!(entries.len(), 129, "{file}: entry count");
            for (n, (k, v)) in entries.iter().enumerate() {
                assert_eq!(*k, n, "{file}: index order");
                assert_eq!(*v, lut[n], "{file}: entry {n}");
            }
        }
    }

    #[test]
    fn fp16_to_fp32_exhaustive() {
        for h in 0..=u16::MAX {
            let hf = half::f16::from_bits(h);
            let got = fp16_to_fp32(h);
            if hf.is_nan() {
                assert_eq!(got, FP32_QNAN);
                assert!(fp16_is_nan_or_inf(h));
            } else {
                assert_eq!(got, hf.to_f32().to_bits(), "h={h:#06x}");
                assert_eq!(fp16_is_nan_or_inf(h), hf.is_infinite());
            }
        }
    }

    #[test]
    fn fp32_to_fp16_matches_half() {
        let mut rng = Rng(1);
        for x in SPECIALS.iter().copied() {
            assert_eq!(fp32_to_fp16(x), ref_to_fp16(x), "x={x:#010x}");
        }
        // every binary32 exponent that can reach a nonzero binary16, with tie patterns
        for be in 95u32..=145 {
            for frac in [0, 1, 0x0FFF, 0x1000, 0x1001, 0x1FFF, 0x2000, 0x3000, 0x7F_F000, 0x7F_FFFF] {
                for s in [0, SIGN_MASK] {
                    let x = s | (be << 23) | frac;
                    assert_eq!(fp32_to_fp16(x), ref_to_fp16(x), "x={x:#010x}");
                }
            }
        }
        for _ in 0..N_RANDOM {
            let x = edge_f32(&mut rng);
            assert_eq!(fp32_to_fp16(x), ref_to_fp16(x), "x={x:#010x}");
            let y = rng.next_u32();
            assert_eq!(fp32_to_fp16(y), ref_to_fp16(y), "x={y:#010x}");
        }
        // round trip is exact for every binary16
        for h in 0..=u16::MAX {
            if !fp16_is_nan_or_inf(h) || h & FP16_FRAC_MASK == 0 {
                assert_eq!(fp32_to_fp16(fp16_to_fp32(h)), h);
            }
        }
    }

    fn check_binary(name: &str, op: fn(u32, u32) -> u32, reference: fn(u32, u32) -> u32, native: fn(f32, f32) -> f32) {
        let mut rng = Rng(0x5EED ^ name.len() as u64);
        let check = |a: u32, b: u32| {
            let got = op(a, b);
            assert_eq!(got, reference(a, b), "{name}({a:#010x}, {b:#010x})");
            let n = native(f(a), f(b));
            if is_normal_bits(a) && is_normal_bits(b) && n.is_normal() && n.abs() != f32::MIN_POSITIVE {
                assert_eq!(got, n.to_bits(), "{name}({a:#010x}, {b:#010x}) vs native");
            }
        };
        for &a in SPECIALS {
            for &b in SPECIALS {
                check(a, b);
            }
        }
        for _ in 0..N_RANDOM {
            let a = edge_f32(&mut rng);
            let b = match rng.below(4) {
                0 => edge_f32(&mut rng),
                1 => rng.next_u32(),
                2 => (a ^ SIGN_MASK) ^ (rng.next_u32() & 0xFF), // near cancellation
                _ => {
                    // exponent chosen so a*b lands near the edges of the range
                    let target = [1u32, 2, 127, 253, 254, 255][rng.below(6) as usize] as i32;
                    let eb = (target + 127 - bexp(a)).clamp(0, 255) as u32;
                    (rng.next_u32() & (SIGN_MASK | FRAC_MASK)) | (eb << 23)
                }
            };
            check(a, b);
            check(b, a);
        }
    }

    #[test]
    fn fp32_mul_matches_ieee_with_ftz() {
        check_binary("mul", fp32_mul, ref_mul, |x, y| x * y);
        assert_eq!(fp32_mul(0xC000_0000, 0x0000_0000), 0x8000_0000); // -2 * +0 = -0
        assert_eq!(fp32_mul(0x7F80_0000, 0x8000_0001), FP32_QNAN); // inf * subnormal(=0)
        assert_eq!(fp32_mul(0x1F80_0000, 0xA000_0000), 0x8000_0000); // -2^-127: FTZ keeps xor sign
        assert_eq!(fp32_mul(0x0080_0000, 0x3F7F_FFFF), 0); // 2^-126*(1-2^-24): tiny after rounding -> 0
    }

    #[test]
    fn fp32_add_matches_ieee_with_ftz() {
        check_binary("add", fp32_add, ref_add, |x, y| x + y);
        assert_eq!(fp32_add(0x3F80_0000, 0xBF80_0000), 0);
        assert_eq!(fp32_add(0x8000_0000, 0x8000_0000), 0x8000_0000);
        assert_eq!(fp32_add(0x0000_0000, 0x8000_0000), 0);
        assert_eq!(fp32_add(FP32_POS_INF, FP32_NEG_INF), FP32_QNAN);
        assert_eq!(fp32_add(0x8000_0001, 0x8000_0000), 0x8000_0000);
    }

    #[test]
    fn fp32_max_matches_compare() {
        check_binary("max", fp32_max, ref_max, |x, y| if y > x { y } else { x });
        assert_eq!(fp32_max(0x8000_0000, 0), 0x8000_0000);
        assert_eq!(fp32_max(0, 0x8000_0000), 0);
        assert_eq!(fp32_max(0x8000_0005, 0xBF80_0000), 0x8000_0000);
        assert_eq!(fp32_max(FP32_NEG_INF, 0xFFC0_0001), FP32_QNAN);
    }

    #[test]
    fn fp32_recip_correctly_rounded() {
        let mut rng = Rng(7);
        let check = |x: u32| {
            let got = fp32_recip(x);
            assert_eq!(got, ref_recip(x), "recip({x:#010x})");
            let n = 1.0f32 / f(x);
            if is_normal_bits(x) && n.is_normal() && n.abs() != f32::MIN_POSITIVE {
                assert_eq!(got, n.to_bits());
            }
        };
        for &x in SPECIALS {
            check(x);
        }
        for be in [1u32, 2, 3, 125, 126, 127, 128, 250, 251, 252, 253, 254] {
            for frac in [0, 1, 2, 0x40_0000, 0x7F_FFFE, 0x7F_FFFF] {
                check((be << 23) | frac);
                check(SIGN_MASK | (be << 23) | frac);
            }
        }
        for _ in 0..N_RANDOM {
            check(edge_f32(&mut rng));
            check(rng.next_u32());
        }
        assert_eq!(fp32_recip(0x8000_0001), FP32_NEG_INF);
        assert_eq!(fp32_recip(FP32_NEG_INF), 0x8000_0000);
        assert_eq!(fp32_recip(0x7F00_0000), 0); // 1/2^127 = 2^-127 -> FTZ
        assert_eq!(fp32_recip(0x7E80_0000), 0x0080_0000); // 1/2^126 = 2^-126
    }

    #[test]
    fn fp32_exp_special_values() {
        assert_eq!(fp32_exp(0), FP32_ONE);
        assert_eq!(fp32_exp(SIGN_MASK), FP32_ONE);
        assert_eq!(fp32_exp(0x0000_0001), FP32_ONE); // DAZ
        assert_eq!(fp32_exp(FP32_NEG_INF), 0);
        assert_eq!(fp32_exp(FP32_POS_INF), FP32_POS_INF);
        assert_eq!(fp32_exp(0xFFC0_1234), FP32_QNAN);
        assert_eq!(fp32_exp(0x42C8_0000), FP32_POS_INF); // 100
        assert_eq!(fp32_exp(0xC2C8_0000), 0); // -100
                                              // t = -126 exactly is the smallest normal
        let mut rng = Rng(11);
        for _ in 0..N_RANDOM {
            let x = edge_f32(&mut rng);
            let y = fp32_exp(x);
            assert!(!fp32_is_nan(y) || fp32_is_nan(x), "exp({x:#010x}) = NaN");
            assert!(y & SIGN_MASK == 0 || y == FP32_QNAN);
            assert!(y == 0 || y == FP32_QNAN || y == FP32_POS_INF || is_normal_bits(y));
        }
    }

    fn rel_err(y: u32, exact: f64) -> f64 {
        ((f(y) as f64 - exact) / exact).abs()
    }

    /// Max relative error of fp32_exp over `n` random binary32 values in [lo, hi].
    fn exp_max_rel_err(lo: f32, hi: f32, n: usize, rng: &mut Rng) -> f64 {
        // sample uniformly in bit-pattern space of |x| (covers small and large magnitudes)
        let mut worst = 0f64;
        for _ in 0..n {
            let x = if rng.below(2) == 0 {
                lo + (hi - lo) * (rng.next_u32() >> 8) as f32 / (1u32 << 24) as f32
            } else {
                let m = rng.below(lo.abs().max(hi.abs()).to_bits());
                let s = if lo < 0.0 && (hi <= 0.0 || rng.below(2) == 0) { SIGN_MASK } else { 0 };
                let v = f(s | m);
                if v < lo || v > hi {
                    continue;
                }
                v
            };
            let exact = (x as f64).exp();
            worst = worst.max(rel_err(fp32_exp(x.to_bits()), exact));
        }
        worst
    }

    #[test]
    fn fp32_exp_accuracy() {
        let mut rng = Rng(3);
        let neg = exp_max_rel_err(-87.0, 0.0, N_RANDOM, &mut rng);
        let pos = exp_max_rel_err(0.0, 88.0, N_RANDOM, &mut rng);
        let small = exp_max_rel_err(-1.0, 1.0, N_RANDOM, &mut rng);
        assert!(neg <= EXP_REL_ERR_NEG, "exp [-87,0]: {neg:e}");
        assert!(pos <= EXP_REL_ERR_POS, "exp [0,88]: {pos:e}");
        assert!(small <= EXP_REL_ERR_UNIT, "exp [-1,1]: {small:e}");
    }

    #[test]
    fn fp32_ln_special_values() {
        assert_eq!(fp32_ln(FP32_ONE), 0);
        assert_eq!(fp32_ln(0), FP32_NEG_INF);
        assert_eq!(fp32_ln(SIGN_MASK), FP32_NEG_INF);
        assert_eq!(fp32_ln(0x8000_0001), FP32_NEG_INF);
        assert_eq!(fp32_ln(0x0040_0000), FP32_NEG_INF);
        assert_eq!(fp32_ln(FP32_POS_INF), FP32_POS_INF);
        assert_eq!(fp32_ln(FP32_NEG_INF), FP32_QNAN);
        assert_eq!(fp32_ln(0xBF80_0000), FP32_QNAN);
        assert_eq!(fp32_ln(0x7FA0_0000), FP32_QNAN);
        assert_eq!(fp32_ln(0x4000_0000), LN2_F32);
    }

    #[test]
    fn fp32_ln_accuracy() {
        let mut rng = Rng(5);
        let (mut abs_worst, mut rel_worst) = (0f64, 0f64);
        let mut eval = |x: u32| {
            let exact = (f(x) as f64).ln();
            let y = f(fp32_ln(x)) as f64;
            if (0.5..=2.0).contains(&f(x)) {
                abs_worst = abs_worst.max((y - exact).abs());
            } else {
                rel_worst = rel_worst.max(((y - exact) / exact).abs());
            }
        };
        for _ in 0..N_RANDOM {
            // all positive normals
            eval(0x0080_0000 + rng.below(0x7F80_0000 - 0x0080_0000));
            // dense around 1
            eval(0x3F00_0000 + rng.below(0x0100_0000));
        }
        assert!(abs_worst <= LN_ABS_ERR, "ln abs err on [0.5, 2]: {abs_worst:e}");
        assert!(rel_worst <= LN_REL_ERR, "ln rel err outside [0.5, 2]: {rel_worst:e}");
    }

    // Exhaustively measured maxima (see module doc), rounded up.
    const EXP_REL_ERR_NEG: f64 = 7.5e-6;
    const EXP_REL_ERR_POS: f64 = 5.8e-6;
    const EXP_REL_ERR_UNIT: f64 = 3.8e-6;
    const LN_ABS_ERR: f64 = 7.7e-6;
    const LN_REL_ERR: f64 = 1.11e-5;
}
