//! Piecewise-linear interpolation of measured tables, in one dimension ([`Curve`]) and in
//! several nested ones ([`Grid`]).
//!
//! The rule, the same on every axis:
//! * **At a measured point**: the measured value (duplicates of one point are averaged first).
//! * **Between two measured points**: linear interpolation, so the value is monotone between
//!   neighbours and never leaves their range.
//! * **Below the smallest point**: the smallest point's value (clamped). A kernel does not get
//!   faster than the fixed cost measured at its smallest size; the tables start at 1 token,
//!   2 KB messages or an empty KV cache, so this only covers 0-token and tiny inputs.
//! * **Above the largest point**: linear extrapolation along the secant from the largest
//!   measured point at or below half the last key to the last point, with a slope never below
//!   zero. The upper end of every table is the bandwidth- or compute-bound regime where time is
//!   linear in the size; a secant over the upper half of the table is immune to the noise of
//!   two neighbouring points (Vidur's 4064 and 4096 tokens differ by less than their jitter).
//!   Quadratic growth (prefill attention over long chunks) is underestimated beyond the table.

/// Linear interpolation over sorted, distinct `keys`, with values given by `value(i)`.
fn interpolate(keys: &[f64], x: f64, value: impl Fn(usize) -> f64) -> f64 {
    let n = keys.len();
    if n == 0 {
        return 0.0;
    }
    if n == 1 || x <= keys[0] {
        return value(0);
    }
    let last = n - 1;
    if x >= keys[last] {
        let xn = keys[last];
        let yn = value(last);
        if x == xn {
            return yn;
        }
        // The largest point at or below half the last key, else the first.
        let a = keys.partition_point(|&k| k <= xn / 2.0).saturating_sub(1).min(last - 1);
        let slope = ((yn - value(a)) / (xn - keys[a])).max(0.0);
        return yn + slope * (x - xn);
    }
    // keys[i] <= x < keys[i + 1]
    let i = keys.partition_point(|&k| k <= x) - 1;
    let (x0, x1) = (keys[i], keys[i + 1]);
    let (y0, y1) = (value(i), value(i + 1));
    if x == x0 {
        return y0;
    }
    y0 + (y1 - y0) * (x - x0) / (x1 - x0)
}

/// Sorts `(key, value)` pairs and averages the values of equal keys.
fn merge_duplicates(mut points: Vec<(f64, f64)>) -> (Vec<f64>, Vec<f64>) {
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut keys: Vec<f64> = Vec::with_capacity(points.len());
    let mut sums: Vec<(f64, usize)> = Vec::with_capacity(points.len());
    for (k, v) in points {
        match keys.last() {
            Some(&last) if last == k => {
                if let Some(s) = sums.last_mut() {
                    s.0 += v;
                    s.1 += 1;
                }
            }
            _ => {
                keys.push(k);
                sums.push((v, 1));
            }
        }
    }
    (keys, sums.into_iter().map(|(s, c)| s / c as f64).collect())
}

/// A measured quantity over one axis (time over tokens, time over message size).
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    keys: Vec<f64>,
    values: Vec<f64>,
}

impl Curve {
    /// A curve through the points, in any order; values of equal keys are averaged. `None`
    /// without points or with a non-finite coordinate.
    pub fn new(points: impl IntoIterator<Item = (f64, f64)>) -> Option<Curve> {
        let points: Vec<(f64, f64)> = points.into_iter().collect();
        if points.is_empty() || points.iter().any(|(k, v)| !k.is_finite() || !v.is_finite()) {
            return None;
        }
        let (keys, values) = merge_duplicates(points);
        Some(Curve { keys, values })
    }

    /// The value at `x` (see the module documentation for the rule).
    pub fn eval(&self, x: f64) -> f64 {
        interpolate(&self.keys, x, |i| self.values[i])
    }

    /// The measured points (after averaging duplicates), by increasing key.
    pub fn points(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.keys.iter().copied().zip(self.values.iter().copied())
    }

    /// The smallest and largest measured keys.
    pub fn range(&self) -> (f64, f64) {
        (self.keys[0], self.keys[self.keys.len() - 1])
    }
}

/// A node of a [`Grid`]: a value, or an axis whose keys each lead to a sub-grid.
#[derive(Clone, Debug, PartialEq)]
enum Node {
    Leaf(f64),
    Axis { keys: Vec<f64>, children: Vec<Node> },
}

impl Node {
    fn build(rows: Vec<(Vec<f64>, f64)>, depth: usize, dims: usize) -> Node {
        if depth == dims {
            let n = rows.len().max(1) as f64;
            return Node::Leaf(rows.iter().map(|r| r.1).sum::<f64>() / n);
        }
        let mut rows = rows;
        rows.sort_by(|a, b| a.0[depth].total_cmp(&b.0[depth]));
        let mut keys = Vec::new();
        let mut children = Vec::new();
        let mut group: Vec<(Vec<f64>, f64)> = Vec::new();
        for row in rows {
            if let Some(first) = group.first() {
                if first.0[depth] != row.0[depth] {
                    keys.push(first.0[depth]);
                    children.push(Node::build(std::mem::take(&mut group), depth + 1, dims));
                }
            }
            group.push(row);
        }
        if let Some(first) = group.first() {
            keys.push(first.0[depth]);
            children.push(Node::build(group, depth + 1, dims));
        }
        Node::Axis { keys, children }
    }

    fn eval(&self, x: &[f64]) -> f64 {
        match self {
            Node::Leaf(v) => *v,
            Node::Axis { keys, children } => interpolate(keys, x[0], |i| children[i].eval(&x[1..])),
        }
    }
}

/// A measured quantity over several axes whose points need not form a full rectangle: the keys
/// of an axis may differ under each key of the axes before it (LLMServingSim's attention table
/// has KV lengths only where there are requests). Each axis is interpolated in turn with the
/// [`Curve`] rule, outermost first, among the keys present under the bracketing outer keys.
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    dims: usize,
    root: Node,
}

impl Grid {
    /// A grid through `rows` of `dims` coordinates and a value; equal coordinates are averaged.
    /// `None` without rows, with a row of another dimension, or a non-finite number.
    pub fn new(dims: usize, rows: Vec<(Vec<f64>, f64)>) -> Option<Grid> {
        let bad = |r: &(Vec<f64>, f64)| r.0.len() != dims || !r.1.is_finite() || r.0.iter().any(|c| !c.is_finite());
        if dims == 0 || rows.is_empty() || rows.iter().any(bad) {
            return None;
        }
        Some(Grid { dims, root: Node::build(rows, 0, dims) })
    }

    /// The value at `x` (of the grid's dimension; missing coordinates count as 0).
    pub fn eval(&self, x: &[f64]) -> f64 {
        let mut point = x.to_vec();
        point.resize(self.dims, 0.0);
        self.root.eval(&point)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(points: &[(f64, f64)]) -> Curve {
        Curve::new(points.iter().copied()).expect("valid points")
    }

    #[test]
    fn hits_points_and_interpolates_between() {
        let c = curve(&[(4.0, 40.0), (1.0, 10.0), (2.0, 30.0)]);
        assert_eq!(c.eval(1.0), 10.0);
        assert_eq!(c.eval(2.0), 30.0);
        assert_eq!(c.eval(4.0), 40.0);
        assert_eq!(c.eval(1.5), 20.0);
        assert_eq!(c.eval(3.0), 35.0);
    }

    #[test]
    fn clamps_below_and_extrapolates_along_the_upper_secant() {
        let c = curve(&[(1.0, 10.0), (2.0, 30.0), (4.0, 40.0), (8.0, 80.0)]);
        assert_eq!(c.eval(0.0), 10.0);
        // Secant from 4 (the largest key <= 8 / 2) to 8: slope 10.
        assert_eq!(c.eval(10.0), 100.0);
        // A falling tail never extrapolates downwards.
        let d = curve(&[(1.0, 10.0), (2.0, 5.0)]);
        assert_eq!(d.eval(5.0), 5.0);
        // One point: constant.
        assert_eq!(curve(&[(3.0, 7.0)]).eval(100.0), 7.0);
    }

    #[test]
    fn averages_duplicates_and_rejects_bad_points() {
        let c = curve(&[(1.0, 10.0), (1.0, 20.0), (2.0, 30.0)]);
        assert_eq!(c.eval(1.0), 15.0);
        assert_eq!(c.points().count(), 2);
        assert!(Curve::new(Vec::new()).is_none());
        assert!(Curve::new([(1.0, f64::NAN)]).is_none());
    }

    #[test]
    fn monotone_between_neighbours() {
        let c = curve(&[(1.0, 5.0), (8.0, 3.0), (16.0, 9.0), (64.0, 9.5)]);
        let pts: Vec<_> = c.points().collect();
        for w in pts.windows(2) {
            let (lo, hi) = (w[0].1.min(w[1].1), w[0].1.max(w[1].1));
            let mut prev = w[0].1;
            for s in 1..50 {
                let x = w[0].0 + (w[1].0 - w[0].0) * s as f64 / 50.0;
                let y = c.eval(x);
                assert!(y >= lo && y <= hi, "{x}: {y} outside [{lo}, {hi}]");
                assert!((y - prev) * (w[1].1 - w[0].1) >= 0.0, "not monotone at {x}");
                prev = y;
            }
        }
    }

    #[test]
    fn ragged_grid() {
        // Axis 0 = 0 has only axis-1 key 0; axis 0 = 10 has keys 0 and 100.
        let g = Grid::new(
            2,
            vec![(vec![0.0, 0.0], 1.0), (vec![10.0, 0.0], 2.0), (vec![10.0, 100.0], 4.0), (vec![10.0, 100.0], 6.0)],
        )
        .expect("grid");
        assert_eq!(g.eval(&[10.0, 100.0]), 5.0);
        assert_eq!(g.eval(&[10.0, 50.0]), 3.5);
        assert_eq!(g.eval(&[0.0, 50.0]), 1.0);
        // Halfway on axis 0: (1 + 3.5) / 2.
        assert_eq!(g.eval(&[5.0, 50.0]), 2.25);
        assert!(Grid::new(2, vec![(vec![1.0], 1.0)]).is_none());
    }
}
