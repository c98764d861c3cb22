//! How an artifact is cut into the parts of a multipart upload.
//!
//! S3 (and every service copying its API) caps one upload at 10,000 parts of
//! 5 MiB to 5 GiB each. An artifact streams out of the compressor, so its final
//! size is unknown when the upload starts and the part size cannot change
//! midway: it is chosen up front from the size the job's previous backup had,
//! with room for the data to grow, so a database that doubles between two
//! backups still fits. Memory stays bounded: the part being filled plus the
//! parts in flight are held to [`BUFFER_BUDGET`] by uploading fewer parts at
//! once as parts grow (at least one is in flight while the next fills).

/// The smallest part Sauve uses (S3's own floor is 5 MiB): 10,000 of them are
/// 156 GiB, enough for most backups without any hint.
pub const MIN_PART: u64 = 16 << 20;
/// S3's ceiling for one part.
pub const MAX_PART: u64 = 5 << 30;
/// S3's ceiling for the number of parts of one upload.
pub const MAX_PARTS: u64 = 10_000;
/// Memory for the part being filled and the parts being uploaded, when parts
/// are small enough to share it.
pub const BUFFER_BUDGET: u64 = 64 << 20;
/// Parts in flight at most: beyond four, loopback and LAN uploads gain little
/// and a slow link only queues more memory.
pub const MAX_CONCURRENT: u64 = 4;
/// How much bigger than last time an artifact may grow and still fit.
pub const GROWTH_HEADROOM: u64 = 4;

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

    /// Bytes of part buffers at most: those in flight and the one filling.
    pub fn buffers(&self) -> u64 {
        self.part_size * (self.concurrent + 1)
    }
}

/// The plan for an artifact expected to be about `expected` bytes (the job's
/// previous backup), or of unknown size.
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
        .saturating_sub(1)
        .clamp(1, MAX_CONCURRENT);
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
        // (expected artifact, part size, parts in flight)
        let cases = [
            (None, 16 * MIB, 3),
            (Some(0), 16 * MIB, 3),
            (Some(1), 16 * MIB, 3),
            (Some(39 * GIB), 16 * MIB, 3),
            // 4 × 40 GiB needs parts of 16.4 MiB: the next power of two.
            (Some(40 * GIB), 32 * MIB, 1),
            (Some(80 * GIB), 64 * MIB, 1),
            (Some(TIB), 512 * MIB, 1),
            (Some(10 * TIB), 5 * GIB, 1),
            // Beyond what S3 can hold in one object: the largest part there is.
            (Some(100 * TIB), 5 * GIB, 1),
            (Some(u64::MAX), 5 * GIB, 1),
        ];
        for (expected, part_size, concurrent) in cases {
            let p = plan(expected);
            assert_eq!(
                p,
                PartPlan {
                    part_size,
                    concurrent
                },
                "expected size {expected:?}"
            );
            assert!((5 * MIB..=MAX_PART).contains(&p.part_size));
            assert!(p.buffers() <= BUFFER_BUDGET.max(2 * p.part_size));
        }
    }

    #[test]
    fn an_artifact_four_times_last_time_still_fits() {
        for expected in [MIB, GIB, 39 * GIB, 41 * GIB, 300 * GIB, TIB, 12 * TIB] {
            let p = plan(Some(expected));
            assert!(
                p.max_object() >= expected * GROWTH_HEADROOM,
                "{expected}: {p:?} holds {} only",
                p.max_object()
            );
        }
    }
}
