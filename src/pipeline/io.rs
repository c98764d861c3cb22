//! Small `Read`/`Write` adapters the pipeline is built from: counting, hashing,
//! and the bridge between the blocking thread that compresses (zstd and age are
//! synchronous) and the async tasks that talk to storage. The channel is bounded,
//! so a slow destination slows the source down instead of filling memory.

use bytes::{Bytes, BytesMut};
use sha2::{Digest, Sha256};
use std::io::{self, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tokio::sync::mpsc;

/// Size of the chunks handed to storage. Large enough to keep per-chunk overhead
/// invisible (an object store's writer gathers them into parts: 256 KiB chunks
/// doubled the CPU of an S3 upload), small enough that the channel's few
/// chunks cost little memory. A local file is written in smaller pieces
/// (`storage::LOCAL_WRITE`).
pub const CHUNK: usize = 1 << 20;
/// Chunks in flight between the compressor and the storage writers: two
/// keep every destination busy (measured: no slower than four) for 2 MiB.
pub const CHANNEL_CHUNKS: usize = 2;

/// Counts bytes written through it into a shared counter (read by progress display).
pub struct CountingWriter<W> {
    inner: W,
    count: Arc<AtomicU64>,
}

impl<W> CountingWriter<W> {
    pub fn new(inner: W, count: Arc<AtomicU64>) -> Self {
        Self { inner, count }
    }
    pub fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// SHA-256 and length of everything written through it.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    len: u64,
}

impl<W> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            len: 0,
        }
    }
    pub fn finish(self) -> (W, String, u64) {
        (self.inner, hex::encode(self.hasher.finalize()), self.len)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// SHA-256 and length of everything read through it.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    len: u64,
}

impl<R> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            len: 0,
        }
    }
    pub fn finish(self) -> (String, u64) {
        (hex::encode(self.hasher.finalize()), self.len)
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
}

/// The blocking side of the pipeline writes into this; full chunks go to the
/// async side. A closed receiver (every destination failed, or the run was
/// cancelled) turns into a `BrokenPipe` error, which stops the source.
pub struct ChannelWriter {
    tx: mpsc::Sender<Bytes>,
    buf: BytesMut,
    cancelled: Arc<AtomicBool>,
}

impl ChannelWriter {
    pub fn new(tx: mpsc::Sender<Bytes>, cancelled: Arc<AtomicBool>) -> Self {
        Self {
            tx,
            buf: BytesMut::with_capacity(CHUNK),
            cancelled,
        }
    }

    fn send_buf(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        if self.cancelled.load(Ordering::Relaxed) {
            return Err(io::Error::new(io::ErrorKind::Interrupted, "run cancelled"));
        }
        let chunk = self.buf.split().freeze();
        self.buf.reserve(CHUNK);
        self.tx.blocking_send(chunk).map_err(|_| {
            io::Error::new(
                io::ErrorKind::BrokenPipe,
                "no destination is accepting data any more",
            )
        })
    }

    /// Sends what is buffered; the channel closes when this is dropped.
    pub fn finish(mut self) -> io::Result<()> {
        self.send_buf()
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = CHUNK - self.buf.len();
        let n = buf.len().min(room);
        self.buf.extend_from_slice(&buf[..n]);
        if self.buf.len() >= CHUNK {
            self.send_buf()?;
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        // Chunks are sent when full or at `finish`; flushing early would only make
        // small writes to storage.
        Ok(())
    }
}

/// Reads chunks that an async task receives from storage.
pub struct ChannelReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

impl ChannelReader {
    pub fn new(rx: mpsc::Receiver<io::Result<Bytes>>) -> Self {
        Self {
            rx,
            current: Bytes::new(),
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashing_writer_matches_known_digest() {
        let mut w = HashingWriter::new(Vec::new());
        w.write_all(b"abc").unwrap();
        let (inner, hex, len) = w.finish();
        assert_eq!(inner, b"abc");
        assert_eq!(len, 3);
        assert_eq!(
            hex,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn channel_round_trip_in_chunks() {
        let (tx, mut rx) = mpsc::channel(CHANNEL_CHUNKS);
        let data: Vec<u8> = (0..(CHUNK * 2 + 123)).map(|i| (i % 251) as u8).collect();
        let expected = data.clone();
        let producer = std::thread::spawn(move || {
            let mut w = ChannelWriter::new(tx, Arc::new(AtomicBool::new(false)));
            w.write_all(&data).unwrap();
            w.finish().unwrap();
        });
        // Room for every chunk: the reader below starts after this loop.
        let (rtx, rrx) = mpsc::channel(16);
        let mut sizes = Vec::new();
        while let Some(chunk) = rx.blocking_recv() {
            sizes.push(chunk.len());
            rtx.blocking_send(Ok(chunk)).unwrap();
        }
        drop(rtx);
        producer.join().unwrap();
        assert_eq!(sizes, [CHUNK, CHUNK, 123]);
        let mut out = Vec::new();
        ChannelReader::new(rrx).read_to_end(&mut out).unwrap();
        assert_eq!(out, expected);
    }

    #[test]
    fn closed_receiver_stops_the_writer() {
        let (tx, rx) = mpsc::channel(1);
        drop(rx);
        let mut w = ChannelWriter::new(tx, Arc::new(AtomicBool::new(false)));
        let err = w.write_all(&vec![0u8; CHUNK * 2]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    }
}
