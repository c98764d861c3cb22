//! How an artifact is cut into the parts of a multipart upload.
//!
//! S3 (and every service copying its API) caps one upload at 10,000 parts of
//! 5 MiB to 5 GiB each. An artifact streams out of the compressor, so its final
//! size is unknown when the upload starts and the part size cannot change
//! midway: it is chosen up front from the size the job's previous runs reached,
//! with room for the data to double. A run that outgrows its plan fails with a
//! clear error, and the next run plans from the size that run reached.
//!
//! Memory: OpenDAL holds the parts in flight, the part it is filling and one
//! more it keeps for a retry, so buffers are `(concurrent + 2) × part`. Small
//! parts get [`BUFFER_BUDGET`]; big ones get two in flight, never fewer, since
//! with one OpenDAL uploads inside the write call and the source waits.

/// The smallest part Sauve uses (S3's own floor is 5 MiB): 10,000 of them are
/// 156 GiB, enough for most backups without any hint.
pub const MIN_PART: u64 = 16 << 20;
/// S3's ceiling for one part.
pub const MAX_PART: u64 = 5 << 30;
/// S3's ceiling for the number of parts of one upload.
pub const MAX_PARTS: u64 = 10_000;
/// Part buffers while parts are small enough to share it.
pub const BUFFER_BUDGET: u64 = 80 << 20;
/// Parts in flight at least (so uploading overlaps producing) and at most
/// (beyond three, loopback and LAN uploads gain little and a slow link only
/// queues more memory).
pub const MIN_CONCURRENT: u64 = 2;
pub const MAX_CONCURRENT: u64 = 3;
/// How much bigger than before an artifact may grow and still fit.
pub const GROWTH_HEADROOM: u64 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartPlan {
    pub part_size: u64,
    pub concurrent: u64,
}

impl PartPlan {
    /// The largest artifact this plan can upload.
    pub fn max_object(&self) -> u64 {
        self.part_size.saturating_mul(MAX_PARTS)
    }

    /// Bytes of part buffers at most: in flight, filling, and kept for a retry.
    pub fn buffers(&self) -> u64 {
        self.part_size * (self.concurrent + 2)
    }
}

/// The plan for an artifact expected to be about `expected` bytes (the most
/// the job's recent runs produced), or of unknown size.
pub fn plan(expected: Option<u64>) -> PartPlan {
    let needed = expected
        .unwrap_or(0)
        .saturating_mul(GROWTH_HEADROOM)
        .div_ceil(MAX_PARTS);
    // Powers of two keep part sizes few and recognisable in server logs.
    let part_size = needed
        .max(MIN_PART)
        .checked_next_power_of_two()
        .unwrap_or(MAX_PART)
        .min(MAX_PART);
    let concurrent = (BUFFER_BUDGET / part_size)
        .saturating_sub(2)
        .clamp(MIN_CONCURRENT, MAX_CONCURRENT);
    PartPlan {
        part_size,
        concurrent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;
    const TIB: u64 = 1 << 40;

    #[test]
    fn part_size_grows_with_the_expected_size_and_buffers_stay_bounded() {
        // (expected artifact, part size, parts in flight, part buffers)
        let cases = [
            (None, 16 * MIB, 3, 80 * MIB),
            (Some(0), 16 * MIB, 3, 80 * MIB),
            (Some(1), 16 * MIB, 3, 80 * MIB),
            (Some(78 * GIB), 16 * MIB, 3, 80 * MIB),
            // 2 × 79 GiB needs parts of 16.2 MiB: the next power of two.
            (Some(79 * GIB), 32 * MIB, 2, 128 * MIB),
            (Some(160 * GIB), 64 * MIB, 2, 256 * MIB),
            (Some(TIB), 256 * MIB, 2, GIB),
            (Some(10 * TIB), 4 * GIB, 2, 16 * GIB),
            // Beyond what S3 can hold in one object: the largest part there is.
            (Some(100 * TIB), 5 * GIB, 2, 20 * GIB),
            (Some(u64::MAX), 5 * GIB, 2, 20 * GIB),
        ];
        for (expected, part_size, concurrent, buffers) in cases {
            let p = plan(expected);
            assert_eq!(
                p,
                PartPlan {
                    part_size,
                    concurrent
                },
                "expected size {expected:?}"
            );
            assert_eq!(p.buffers(), buffers, "expected size {expected:?}");
            assert!((5 * MIB..=MAX_PART).contains(&p.part_size));
            assert!(p.concurrent >= MIN_CONCURRENT);
        }
    }

    #[test]
    fn an_artifact_twice_the_expected_size_still_fits() {
        for expected in [MIB, GIB, 78 * GIB, 79 * GIB, 300 * GIB, TIB, 24 * TIB] {
            let p = plan(Some(expected));
            assert!(
                p.max_object() >= expected * GROWTH_HEADROOM,
                "{expected}: {p:?} holds {} only",
                p.max_object()
            );
        }
    }
}
