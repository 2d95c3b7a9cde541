//! Packing vectors into the lane beats the PU and RU ports carry.
//!
//! Beat `b` of a vector holds elements `b * lanes .. (b + 1) * lanes`, element `i` of the
//! beat in bits `[w*i +: w]`; elements past the vector's end are zero.

/// Number of beats for `dim` elements on `lanes` lanes.
pub fn beats(dim: usize, lanes: usize) -> usize {
    dim.div_ceil(lanes)
}

/// Index range of beat `b` inside a vector of `len` elements.
#[inline]
fn beat_range(len: usize, lanes: usize, b: usize) -> std::ops::Range<usize> {
    (b * lanes).min(len)..((b + 1) * lanes).min(len)
}

/// Packs beat `b` of an FP16 vector into 32-bit words (two elements per word).
#[inline]
pub fn pack16(x: &[u16], lanes: usize, b: usize, words: &mut [u32]) {
    words.fill(0);
    for (i, &e) in x[beat_range(x.len(), lanes, b)].iter().enumerate() {
        words[i / 2] |= (e as u32) << (16 * (i % 2));
    }
}

/// Packs beat `b` of an FP32 vector (one element per word).
#[inline]
pub fn pack32(x: &[u32], lanes: usize, b: usize, words: &mut [u32]) {
    words.fill(0);
    for (w, &e) in words.iter_mut().zip(&x[beat_range(x.len(), lanes, b)]) {
        *w = e;
    }
}

/// Unpacks beat `b` of an FP32 vector of length `x.len()`.
#[inline]
pub fn unpack32(words: &[u32], lanes: usize, b: usize, x: &mut [u32]) {
    let r = beat_range(x.len(), lanes, b);
    for (e, &w) in x[r].iter_mut().zip(words) {
        *e = w;
    }
}

/// Unpacks beat `b` of an FP16 vector carried in the low half of each 32-bit lane.
#[inline]
pub fn unpack16_in32(words: &[u32], lanes: usize, b: usize, x: &mut [u16]) {
    let r = beat_range(x.len(), lanes, b);
    for (e, &w) in x[r].iter_mut().zip(words) {
        *e = w as u16;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fp16_beats_round_trip_with_padding() {
        let x: Vec<u16> = (1..=7).collect();
        let mut w = [0u32; 2];
        pack16(&x, 4, 1, &mut w);
        assert_eq!(w, [5 | (6 << 16), 7]);
        let mut w32 = [0u32; 4];
        let mut back = vec![0u16; 7];
        let wide: Vec<u32> = x.iter().map(|&e| e as u32).collect();
        for b in 0..beats(7, 4) {
            pack32(&wide, 4, b, &mut w32);
            unpack16_in32(&w32, 4, b, &mut back);
        }
        assert_eq!(back, x);
    }
}
