//! Medians and 95th percentiles of a set of samples.

use serde_json::{json, Value};

/// A summary of samples in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// How many samples.
    pub runs: usize,
    /// The median.
    pub median: f64,
    /// The 95th percentile (nearest rank).
    pub p95: f64,
    /// The smallest.
    pub min: f64,
    /// The largest.
    pub max: f64,
}

impl Summary {
    /// Summarises samples (any order); `None` when there are none.
    pub fn of(samples: &[f64]) -> Option<Summary> {
        let mut sorted: Vec<f64> = samples.iter().copied().filter(|x| x.is_finite()).collect();
        if sorted.is_empty() {
            return None;
        }
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        // Nearest rank: the smallest sample with at least 95 % at or below it.
        let rank = (0.95 * n as f64).ceil() as usize;
        Some(Summary {
            runs: n,
            median,
            p95: sorted[rank.clamp(1, n) - 1],
            min: sorted[0],
            max: sorted[n - 1],
        })
    }

    /// As JSON (`runs`, `median`, `p95`, `min`, `max`).
    pub fn to_json(self) -> Value {
        json!({"runs": self.runs, "median": self.median, "p95": self.p95, "min": self.min, "max": self.max})
    }

    /// Reads one back from [`Summary::to_json`].
    pub fn from_json(value: &Value) -> Option<Summary> {
        Some(Summary {
            runs: usize::try_from(value.get("runs")?.as_u64()?).ok()?,
            median: value.get("median")?.as_f64()?,
            p95: value.get("p95")?.as_f64()?,
            min: value.get("min")?.as_f64()?,
            max: value.get("max")?.as_f64()?,
        })
    }
}

/// Samples in milliseconds as a JSON summary (`null` when there are none).
pub fn summary_json(samples: &[f64]) -> Value {
    Summary::of(samples).map_or(Value::Null, Summary::to_json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_p95_of_odd_and_even_counts() {
        let odd = Summary::of(&[5.0, 1.0, 3.0]).unwrap();
        assert_eq!(
            (odd.median, odd.p95, odd.min, odd.max),
            (3.0, 5.0, 1.0, 5.0)
        );
        let even = Summary::of(&[4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!(even.median, 2.5);
        let hundred: Vec<f64> = (1..=100).map(f64::from).collect();
        let summary = Summary::of(&hundred).unwrap();
        assert_eq!((summary.median, summary.p95), (50.5, 95.0));
    }

    #[test]
    fn nothing_to_summarise() {
        assert_eq!(Summary::of(&[]), None);
        assert_eq!(Summary::of(&[f64::NAN]), None);
        assert_eq!(summary_json(&[]), Value::Null);
    }

    #[test]
    fn json_round_trip() {
        let summary = Summary::of(&[1.0, 2.0, 7.5]).unwrap();
        assert_eq!(Summary::from_json(&summary.to_json()), Some(summary));
    }
}
