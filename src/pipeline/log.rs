//! A run's log as it is written: each line stamped with the instant it was
//! written (UTC), so a log read later says when each step happened and how
//! long the gaps were. The runner stores it, capped, when the attempt ends.

/// The lines of one attempt's log.
#[derive(Debug, Default, Clone)]
pub struct RunLog {
    lines: Vec<String>,
}

impl RunLog {
    pub fn new() -> RunLog {
        RunLog::default()
    }

    /// Adds `line` (a tool's output may hold several), stamped with now.
    pub fn push(&mut self, line: impl Into<String>) {
        let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S%.3fZ");
        self.lines.push(format!("{now} {}", line.into()));
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    pub fn join(&self, sep: &str) -> String {
        self.lines.join(sep)
    }
}

/// `12.5 MiB in 3.2 s (3.9 MiB/s)`.
pub fn size_and_rate(bytes: u64, millis: i64) -> String {
    let secs = (millis.max(1)) as f64 / 1000.0;
    format!(
        "{} in {secs:.1} s ({}/s)",
        crate::domain::human_bytes(bytes),
        crate::domain::human_bytes((bytes as f64 / secs) as u64)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_stamped_in_order() {
        let mut log = RunLog::new();
        assert!(log.is_empty());
        log.push("source sqlite app.db");
        log.push(String::from("stored x at file:///b"));
        let text = log.join("\n");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        for (line, want) in lines
            .iter()
            .zip(["source sqlite app.db", "stored x at file:///b"])
        {
            let (stamp, rest) = line.split_once(' ').unwrap();
            assert_eq!(rest, want);
            assert!(stamp.parse::<jiff::Timestamp>().is_ok(), "{stamp}");
        }
        assert_eq!(
            size_and_rate(10 * 1024 * 1024, 2000),
            "10.0 MiB in 2.0 s (5.0 MiB/s)"
        );
        assert_eq!(size_and_rate(0, 0), "0 B in 0.0 s (0 B/s)");
    }
}
