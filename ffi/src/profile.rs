//! The live-heap profile of a monitor: fed whole (Go's `runtime.MemProfile`), exported as
//! pprof.

use std::ffi::c_char;
use std::path::Path;

use leaksense_core::profile::{FrameRef, PprofKind, StackSample};

use crate::args::{handle, slice_arg, str_arg};
use crate::error::{Result, guard, leaksense_error_t};
use crate::monitor::leaksense_monitor_t;

/// One frame of a fed profile: its function name and file as byte ranges of the call's `text`
/// buffer, and its line.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct leaksense_profile_frame_t {
    /// Start of the function name in `text`.
    pub function_start: u32,
    /// Its length in bytes.
    pub function_len: u32,
    /// Start of the file name in `text`.
    pub file_start: u32,
    /// Its length in bytes.
    pub file_len: u32,
    /// The line (0 when unknown).
    pub line: u32,
}

/// One stack of a fed profile: `frames_len` frame indices from `stack_frames[frames_start]`,
/// leaf (the allocating frame) first, and the sampled objects and bytes in use there.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct leaksense_profile_sample_t {
    /// Start of this stack's frame indices in `stack_frames`.
    pub frames_start: u32,
    /// How many.
    pub frames_len: u32,
    /// Sampled objects in use.
    pub objects: u64,
    /// Their bytes.
    pub bytes: u64,
}

fn range<'a>(text: &'a str, start: u32, len: u32, what: &str) -> Result<&'a str> {
    let (s, e) = (start as usize, start as usize + len as usize);
    text.get(s..e).ok_or_else(|| {
        leaksense_error_t::invalid(format!(
            "a frame's {what} ({s}..{e}) is outside `text` ({} bytes) or splits a character",
            text.len()
        ))
    })
}

/// Replaces the monitor's live-heap profile with a whole in-use profile taken at `ts_ms` (unix
/// ms): Go's `runtime.MemProfile`. `text` (UTF-8, `text_len` bytes) holds every name; `frames`
/// point into it; each of `samples` names its stack as a range of `stack_frames`, which index
/// `frames`. `rate` is the mean bytes between samples (`runtime.MemProfileRate`); the core
/// unsamples the values as pprof does. Errors: `LEAKSENSE_INVALID_OPTION` for a range outside
/// its buffer or a disabled profile, `LEAKSENSE_CLOSED`.
///
/// # Safety
/// `monitor` must be NULL or a live monitor; each buffer must be NULL with length 0 or point to
/// that many readable values for the duration of the call.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn leaksense_monitor_profile_replace(
    monitor: *const leaksense_monitor_t,
    ts_ms: i64,
    text: *const c_char,
    text_len: usize,
    frames: *const leaksense_profile_frame_t,
    frames_len: usize,
    stack_frames: *const u32,
    stack_frames_len: usize,
    samples: *const leaksense_profile_sample_t,
    samples_len: usize,
    rate: u64,
) -> *mut leaksense_error_t {
    guard(|| {
        // SAFETY: the caller's contract on every pointer.
        let (m, text, frames, stack_frames, samples) = unsafe {
            (
                handle("monitor", monitor)?,
                str_arg("text", text, text_len)?,
                slice_arg("frames", frames, frames_len)?,
                slice_arg("stack_frames", stack_frames, stack_frames_len)?,
                slice_arg("samples", samples, samples_len)?,
            )
        };
        let frames = frames
            .iter()
            .map(|f| {
                Ok(FrameRef {
                    function: range(text, f.function_start, f.function_len, "function")?,
                    file: range(text, f.file_start, f.file_len, "file")?,
                    line: f.line,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let samples = samples
            .iter()
            .map(|s| {
                let (a, b) = (
                    s.frames_start as usize,
                    s.frames_start as usize + s.frames_len as usize,
                );
                Ok(StackSample {
                    frames: stack_frames.get(a..b).ok_or_else(|| {
                        leaksense_error_t::invalid(format!(
                            "a sample's frames ({a}..{b}) are outside `stack_frames` ({} values)",
                            stack_frames.len()
                        ))
                    })?,
                    objects: s.objects,
                    bytes: s.bytes,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(m.inner
            .profile_replace(Some(ts_ms), &frames, &samples, rate)?)
    })
}

/// The live heap now.
pub const LEAKSENSE_PPROF_INUSE: u32 = 0;
/// Its growth since the detector's growth start (the oldest snapshot when there is none).
pub const LEAKSENSE_PPROF_GROWTH: u32 = 1;

/// Writes the live-heap profile as a pprof `profile.proto` file (uncompressed; `go tool pprof`
/// reads it) to `path` (UTF-8, `path_len` bytes): `kind` is `LEAKSENSE_PPROF_INUSE` or
/// `LEAKSENSE_PPROF_GROWTH`. Errors: `LEAKSENSE_INVALID_OPTION` (bad kind, profile off),
/// `LEAKSENSE_EMPTY_INPUT` (not fed yet), `LEAKSENSE_IO`, `LEAKSENSE_CLOSED`.
///
/// # Safety
/// `monitor` must be NULL or a live monitor; `path` NULL with length 0 or `path_len` readable
/// bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_monitor_write_pprof(
    monitor: *const leaksense_monitor_t,
    path: *const c_char,
    path_len: usize,
    kind: u32,
) -> *mut leaksense_error_t {
    guard(|| {
        // SAFETY: the caller's contract on both pointers.
        let (m, path) = unsafe {
            (
                handle("monitor", monitor)?,
                str_arg("path", path, path_len)?,
            )
        };
        let kind = match kind {
            LEAKSENSE_PPROF_INUSE => PprofKind::Inuse,
            LEAKSENSE_PPROF_GROWTH => PprofKind::Growth,
            k => {
                return Err(leaksense_error_t::invalid(format!(
                    "unknown pprof kind {k}"
                )));
            }
        };
        if path.is_empty() {
            return Err(leaksense_error_t::invalid("`path` is empty"));
        }
        Ok(m.inner.write_pprof(Path::new(path), kind)?)
    })
}
