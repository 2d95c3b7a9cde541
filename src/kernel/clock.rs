//! A clock domain: its period and the time of its next rising edge.

use super::Ps;

#[derive(Clone, Debug)]
pub struct Clock {
    pub name: &'static str,
    pub period_ps: Ps,
    next_edge_ps: Ps,
    edges: u64,
}

impl Clock {
    /// A clock of `mhz` whose first rising edge is one period after time 0.
    pub fn from_mhz(name: &'static str, mhz: f64) -> Self {
        let period_ps = (1e6 / mhz).round().max(1.0) as Ps;
        Clock { name, period_ps, next_edge_ps: period_ps, edges: 0 }
    }

    pub fn next_edge(&self) -> Ps {
        self.next_edge_ps
    }

    /// Takes the next rising edge; returns its time.
    pub fn tick(&mut self) -> Ps {
        let t = self.next_edge_ps;
        self.next_edge_ps += self.period_ps;
        self.edges += 1;
        t
    }

    /// Rising edges taken so far.
    pub fn edges(&self) -> u64 {
        self.edges
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_domains_interleave_by_time() {
        let mut mem = Clock::from_mhz("hbm", 1300.0);
        let mut pu = Clock::from_mhz("pu", 666.0);
        assert_eq!((mem.period_ps, pu.period_ps), (769, 1502));
        let mut order = Vec::new();
        for _ in 0..6 {
            if mem.next_edge() <= pu.next_edge() {
                order.push(("mem", mem.tick()));
            } else {
                order.push(("pu", pu.tick()));
            }
        }
        assert_eq!(order, vec![("mem", 769), ("pu", 1502), ("mem", 1538), ("mem", 2307), ("pu", 3004), ("mem", 3076)]);
        assert_eq!((mem.edges(), pu.edges()), (4, 2));
    }
}
