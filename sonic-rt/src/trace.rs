//! The `tracing` feature: spans for task spawns, polls and wakes and for reactor turns.
//!
//! Rules: every hook here is a function that returns a guard (or nothing). Without the feature
//! each is an empty `#[inline(always)]` function returning `()`, so the hooks compile to
//! nothing: no field is computed, no callsite exists, and the task cell does not grow. With it,
//! spans are at `TRACE` level under the target `sonic_rt`, so a subscriber that does not want
//! them pays a callsite check (tracing's cached interest).
//!
//! | span | fields | when |
//! |---|---|---|
//! | `spawn` | `task.id`, `loc.file`, `loc.line`, `loc.col` | a task is spawned (closed at once) |
//! | `poll` | `task.id`, `loc.file`, `loc.line` | around each poll of a task |
//! | `wake` | `task.id`, `remote` | a task's waker wakes it (`remote`: from another thread) |
//! | `turn` | `timeout_ns`, `events` | around each look at the poller (`events` once it returned) |

#[cfg(feature = "tracing")]
mod on {
    use crate::task::Id;
    use std::panic::Location;
    use std::time::Duration;
    use tracing::field::Empty;
    use tracing::span::EnteredSpan;

    pub(crate) fn spawn(id: Id, at: &'static Location<'static>) {
        let _span = tracing::trace_span!(
            target: "sonic_rt",
            "spawn",
            task.id = %id,
            loc.file = at.file(),
            loc.line = at.line(),
            loc.col = at.column(),
        )
        .entered();
    }

    pub(crate) fn poll(id: Id, at: &'static Location<'static>) -> EnteredSpan {
        tracing::trace_span!(
            target: "sonic_rt",
            "poll",
            task.id = %id,
            loc.file = at.file(),
            loc.line = at.line(),
        )
        .entered()
    }

    pub(crate) fn wake(id: Id, remote: bool) {
        let _span =
            tracing::trace_span!(target: "sonic_rt", "wake", task.id = %id, remote).entered();
    }

    pub(crate) fn turn(timeout: Option<Duration>) -> EnteredSpan {
        let timeout_ns = timeout.map_or(u64::MAX, |t| {
            u64::try_from(t.as_nanos()).unwrap_or(u64::MAX)
        });
        tracing::trace_span!(target: "sonic_rt", "turn", timeout_ns, events = Empty).entered()
    }

    pub(crate) fn turn_events(span: &EnteredSpan, events: usize) {
        span.record("events", events as u64);
    }
}

#[cfg(feature = "tracing")]
pub(crate) use on::*;

#[cfg(not(feature = "tracing"))]
mod off {
    use crate::task::Id;
    use std::panic::Location;
    use std::time::Duration;

    #[inline(always)]
    pub(crate) fn spawn(_: Id, _: &'static Location<'static>) {}

    /// What the hooks return without the feature: nothing, with a name.
    pub(crate) struct NoSpan;

    #[inline(always)]
    pub(crate) fn poll(_: Id, _: &'static Location<'static>) -> NoSpan {
        NoSpan
    }

    #[inline(always)]
    pub(crate) fn wake(_: Id, _: bool) {}

    #[inline(always)]
    pub(crate) fn turn(_: Option<Duration>) -> NoSpan {
        NoSpan
    }

    #[inline(always)]
    pub(crate) fn turn_events(_: &NoSpan, _: usize) {}
}

#[cfg(not(feature = "tracing"))]
pub(crate) use off::*;
