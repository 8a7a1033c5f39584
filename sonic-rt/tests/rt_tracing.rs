//! The `tracing` feature: spans for spawn, poll, wake and reactor turns, seen by a subscriber
//! that records them. `cargo test -p sonic-rt --features tracing --test rt_tracing`.
#![cfg(feature = "tracing")]

mod common;

use common::{fire, WaitForWake};
use sonic_rt::spawn;
use sonic_rt::task::{yield_now, Id};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Record};
use tracing::{Event, Metadata, Subscriber};

/// One span as recorded: its name and fields (values as text).
#[derive(Clone, Debug)]
struct Span {
    name: &'static str,
    fields: HashMap<&'static str, String>,
}

#[derive(Default)]
struct Spans {
    next: AtomicU64,
    spans: Mutex<Vec<Span>>,
}

struct Fields<'a>(&'a mut HashMap<&'static str, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name(), value.to_string());
    }
}

/// Records every span of every thread (installed as the global default once).
#[derive(Clone)]
struct Recorder(Arc<Spans>);

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> tracing::span::Id {
        let mut fields = HashMap::new();
        attrs.record(&mut Fields(&mut fields));
        let mut spans = self.0.spans.lock().unwrap();
        spans.push(Span {
            name: attrs.metadata().name(),
            fields,
        });
        self.0.next.store(spans.len() as u64, Ordering::Relaxed);
        tracing::span::Id::from_u64(spans.len() as u64)
    }
    fn record(&self, id: &tracing::span::Id, values: &Record<'_>) {
        let mut spans = self.0.spans.lock().unwrap();
        let span = &mut spans[id.into_u64() as usize - 1];
        values.record(&mut Fields(&mut span.fields));
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &Event<'_>) {}
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

fn recorder() -> &'static Recorder {
    static REC: OnceLock<Recorder> = OnceLock::new();
    REC.get_or_init(|| {
        let rec = Recorder(Arc::default());
        tracing::subscriber::set_global_default(rec.clone()).expect("the only subscriber");
        rec
    })
}

fn spans_of(rec: &Recorder, name: &str, id: Id) -> Vec<Span> {
    let id = id.to_string();
    rec.0
        .spans
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.name == name && s.fields.get("task.id") == Some(&id))
        .cloned()
        .collect()
}

#[test]
fn spawn_poll_wake_and_turn_spans_are_recorded() {
    let rec = recorder();
    for busy_poll in [true, false] {
        let rt = sonic_test_support::rt(busy_poll);
        let slot = Arc::new(Mutex::new((false, None)));
        let s = slot.clone();
        let t = std::thread::spawn(move || {
            while s.lock().unwrap().1.is_none() {
                std::thread::yield_now();
            }
            assert!(fire(&s));
        });
        let (id, line) = rt.block_on(async {
            let (h, line) = (
                spawn(async move {
                    yield_now().await; // a local wake
                    WaitForWake { slot }.await; // a remote wake
                    sonic_rt::time::sleep(Duration::from_millis(1)).await;
                }),
                line!() - 5,
            );
            let id = h.id();
            h.await.unwrap();
            (id, line)
        });
        t.join().unwrap();

        let spawned = spans_of(rec, "spawn", id);
        assert_eq!(spawned.len(), 1, "{spawned:?}");
        assert_eq!(spawned[0].fields["loc.line"], line.to_string());
        assert_eq!(spawned[0].fields["loc.file"], file!());

        // First poll, after the yield, after the remote wake, after the timer.
        let polls = spans_of(rec, "poll", id);
        assert_eq!(polls.len(), 4, "busy_poll={busy_poll}: {polls:?}");
        assert!(polls
            .iter()
            .all(|p| p.fields["loc.line"] == line.to_string()));

        let wakes = spans_of(rec, "wake", id);
        let remote = wakes
            .iter()
            .filter(|w| w.fields["remote"] == "true")
            .count();
        assert_eq!(remote, 1, "busy_poll={busy_poll}: {wakes:?}");
        assert!(wakes.len() >= 3, "busy_poll={busy_poll}: {wakes:?}");
    }
    let spans = rec.0.spans.lock().unwrap();
    let turns: Vec<_> = spans.iter().filter(|s| s.name == "turn").collect();
    assert!(!turns.is_empty());
    // Each turn's event count was recorded once the poller returned.
    assert!(
        turns.iter().all(|t| t.fields.contains_key("events")),
        "{turns:?}"
    );
    assert!(turns.iter().all(|t| t.fields.contains_key("timeout_ns")));
}
