//! Input vectors for the arithmetic units: a third random bit patterns, a third special and
//! edge values (zeros, subnormals, infinities, NaNs, extremes, rounding ties), a third pairs
//! built to cancel or to sit near each other.

use rand::Rng;

const F32_EDGES: &[u32] = &[
    0x0000_0000,
    0x8000_0000,
    0x7F80_0000,
    0xFF80_0000,
    0x7FC0_0000,
    0xFFC0_0001,
    0x7F80_0001, // zeros, infs, NaNs
    0x0000_0001,
    0x807F_FFFF,
    0x0080_0000,
    0x8080_0000,
    0x0080_0001, // subnormal and smallest normal
    0x7F7F_FFFF,
    0xFF7F_FFFF,
    0x3F80_0000,
    0xBF80_0000,
    0x3F80_0001,
    0x3F7F_FFFF, // extremes, around 1
    0x42AE_0000,
    0xC2AE_0000,
    0xC2FC_0000,
    0xC2FE_0000,
    0x4300_0000,
    0xC300_0000, // exp range limits (+-87, -126, -127, +-128)
    0x3380_0000,
    0x3300_0000,
    0x477F_E000,
    0x477F_F000,
    0x4780_0000,
    0x387F_C000,
    0x3880_0000, // fp16 limits and ties
];

pub fn f32_bits(rng: &mut impl Rng) -> u32 {
    match rng.random_range(0..4) {
        0 => F32_EDGES[rng.random_range(0..F32_EDGES.len())] ^ (rng.random_range(0..2u32) << 31),
        1 => {
            // Exponent in the range where scores, maxima and sums live.
            let e = rng.random_range(100u32..160);
            (rng.random_range(0..2u32) << 31) | (e << 23) | rng.random_range(0..1u32 << 23)
        }
        2 => {
            // Exactly representable FP16 values widened, whose ties and subnormals matter.
            let h: u16 = rng.random();
            crate::golden::fp::fp16_to_fp32(h)
        }
        _ => rng.random(),
    }
}

/// A second operand related to the first often enough to cover cancellation and alignment.
pub fn f32_partner(rng: &mut impl Rng, a: u32) -> u32 {
    match rng.random_range(0..4) {
        0 => a ^ 0x8000_0000 ^ rng.random_range(0..4u32),
        1 => a.wrapping_add(rng.random_range(0..(1u32 << 24))) ^ (rng.random_range(0..2u32) << 31),
        _ => f32_bits(rng),
    }
}

pub fn f16_bits(rng: &mut impl Rng) -> u16 {
    const EDGES: &[u16] =
        &[0x0000, 0x8000, 0x0001, 0x03FF, 0x0400, 0x7BFF, 0x7C00, 0xFC00, 0x7E00, 0x7C01, 0xFE01, 0x3C00];
    if rng.random_range(0..3) == 0 {
        EDGES[rng.random_range(0..EDGES.len())]
    } else {
        rng.random()
    }
}
