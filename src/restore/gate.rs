//! One-pass restores: the target reads the decoded stream as it arrives,
//! but the last bytes are held back until the stored bytes' sha256 (and the
//! decoded size) are known to match the manifest. A target that commits only
//! at the end of its input (PostgreSQL's single transaction, the rename of a
//! SQLite file or of an unpacked tree) therefore never commits a damaged
//! backup: on a mismatch it reads an error instead of its last bytes, and
//! rolls back or removes what it wrote.

use std::io::{self, Read};
use std::sync::mpsc::Receiver;

/// Bytes held back: more than any target's final structure (the tar end
/// blocks, the last page of a SQLite file, pg_restore's last data block
/// header), so none can finish without them.
pub const HOLD: usize = 1 << 20;

/// How a decoded size that is not the manifest's starts: a damaged backup.
pub const SIZE_MISMATCH: &str = "the backup decompresses to";

pub struct Gated<'a> {
    inner: &'a mut dyn Read,
    /// A fixed buffer, zeroed once: `[start, end)` was read from `inner` and
    /// not given out yet; its last `HOLD` bytes are the held tail.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Bytes read from `inner` so far, to compare with the manifest.
    seen: u64,
    expected_size: u64,
    verdict: Receiver<Result<(), String>>,
    state: State,
}

/// The buffer: the held tail plus room for large reads, so the tail is
/// moved to the front only once every `BUF - HOLD` bytes or so.
const BUF: usize = 4 * HOLD;

#[derive(PartialEq)]
enum State {
    Streaming,
    Released,
    /// Refused: every later read says why again.
    Refused(String),
}

impl<'a> Gated<'a> {
    /// `verdict` says whether the stored bytes were right; it comes once all
    /// of them were read (a dropped sender counts as "no").
    pub fn new(
        inner: &'a mut dyn Read,
        expected_size: u64,
        verdict: Receiver<Result<(), String>>,
    ) -> Self {
        Gated {
            inner,
            buf: vec![0; BUF],
            start: 0,
            end: 0,
            seen: 0,
            expected_size,
            verdict,
            state: State::Streaming,
        }
    }

    fn held(&self) -> usize {
        self.end - self.start
    }

    fn give(&mut self, out: &mut [u8], n: usize) -> usize {
        out[..n].copy_from_slice(&self.buf[self.start..self.start + n]);
        self.start += n;
        n
    }

    /// Reads more from `inner` after what is held; 0 at its end.
    fn fill(&mut self) -> io::Result<usize> {
        if self.end == self.buf.len() {
            // Full: move the unread bytes (about HOLD) to the front.
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let n = self.inner.read(&mut self.buf[self.end..])?;
        self.end += n;
        self.seen += n as u64;
        Ok(n)
    }
}

impl Read for Gated<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            if let State::Refused(why) = &self.state {
                return Err(io::Error::other(why.clone()));
            }
            if self.state == State::Released {
                let n = self.held().min(out.len());
                return Ok(self.give(out, n));
            }
            if self.held() > HOLD {
                let n = (self.held() - HOLD).min(out.len());
                return Ok(self.give(out, n));
            }
            if self.fill()? > 0 {
                continue;
            }
            // The whole stream is decoded: release the tail only if what was
            // stored is what the manifest says.
            self.state = if self.seen != self.expected_size {
                State::Refused(format!(
                    "{SIZE_MISMATCH} {} bytes, its manifest records {}; nothing was committed",
                    self.seen, self.expected_size
                ))
            } else {
                match self.verdict.recv() {
                    Ok(Ok(())) => State::Released,
                    Ok(Err(why)) => State::Refused(why),
                    Err(_) => State::Refused(
                        "the backup's stored bytes could not all be read; nothing was committed"
                            .into(),
                    ),
                }
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    fn drain(g: &mut Gated<'_>, chunk: usize) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; chunk];
        loop {
            let n = g.read(&mut buf)?;
            if n == 0 {
                return Ok(out);
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    #[test]
    fn the_tail_comes_only_with_a_good_verdict() {
        let data: Vec<u8> = (0..(3 * HOLD + 12345)).map(|i| (i % 251) as u8).collect();
        for chunk in [1usize << 10, 1 << 18, 3 * HOLD] {
            // A good verdict: every byte, in order.
            let (tx, rx) = mpsc::channel();
            tx.send(Ok(())).unwrap();
            let mut src = &data[..];
            let mut g = Gated::new(&mut src, data.len() as u64, rx);
            assert_eq!(drain(&mut g, chunk).unwrap(), data, "chunk {chunk}");

            // A bad one: everything but the held tail, then the error.
            let (tx, rx) = mpsc::channel();
            tx.send(Err("checksum mismatch".into())).unwrap();
            let mut src = &data[..];
            let mut g = Gated::new(&mut src, data.len() as u64, rx);
            let mut got = 0;
            let mut buf = vec![0u8; chunk];
            let err = loop {
                match g.read(&mut buf) {
                    Ok(0) => panic!("a clean end after a bad verdict"),
                    Ok(n) => got += n,
                    Err(e) => break e,
                }
            };
            assert!(err.to_string().contains("checksum mismatch"));
            assert!(got <= data.len() - HOLD, "{got} bytes given out");

            // No verdict at all (the reader side gave up): an error too.
            let (tx, rx) = mpsc::channel::<Result<(), String>>();
            drop(tx);
            let mut src = &data[..];
            let mut g = Gated::new(&mut src, data.len() as u64, rx);
            assert!(drain(&mut g, chunk).is_err());

            // A stream shorter than the manifest says: refused before the verdict.
            let (tx, rx) = mpsc::channel();
            tx.send(Ok(())).unwrap();
            let mut src = &data[..];
            let mut g = Gated::new(&mut src, data.len() as u64 + 1, rx);
            assert!(
                drain(&mut g, chunk)
                    .unwrap_err()
                    .to_string()
                    .contains("decompresses to")
            );
        }
    }
}
