//! Times the client core's `sign_in.*` tracing spans (token request, ID-token
//! check, keychain write): from creation to close, wall clock.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tracing::span::{Attributes, Id};
use tracing::Subscriber;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// The span name prefix the client core uses for the parts of a sign-in.
pub const SIGN_IN_PREFIX: &str = "sign_in.";

/// The durations of closed spans, by name, since the last [`SpanTimes::take`].
#[derive(Debug, Clone, Default)]
pub struct SpanTimes {
    closed: Arc<Mutex<BTreeMap<&'static str, Vec<Duration>>>>,
}

impl SpanTimes {
    /// Installs a global subscriber that records the core's `sign_in.*` spans.
    ///
    /// # Errors
    /// When a global subscriber is already set.
    pub fn install() -> Result<SpanTimes, String> {
        use tracing_subscriber::layer::SubscriberExt as _;
        let times = SpanTimes::default();
        let layer = SpanTimer {
            times: times.clone(),
        };
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::set_global_default(subscriber).map_err(|error| error.to_string())?;
        Ok(times)
    }

    /// Takes what was recorded since the last call.
    pub fn take(&self) -> BTreeMap<&'static str, Vec<Duration>> {
        std::mem::take(&mut *self.closed.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn record(&self, name: &'static str, elapsed: Duration) {
        self.closed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(name)
            .or_default()
            .push(elapsed);
    }
}

struct Started(Instant);

struct SpanTimer {
    times: SpanTimes,
}

impl<S> Layer<S> for SpanTimer
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
{
    fn on_new_span(&self, attributes: &Attributes<'_>, id: &Id, context: Context<'_, S>) {
        if !attributes.metadata().name().starts_with(SIGN_IN_PREFIX) {
            return;
        }
        if let Some(span) = context.span(id) {
            span.extensions_mut().insert(Started(Instant::now()));
        }
    }

    fn on_close(&self, id: Id, context: Context<'_, S>) {
        let Some(span) = context.span(&id) else {
            return;
        };
        let started = span.extensions().get::<Started>().map(|started| started.0);
        if let Some(started) = started {
            self.times.record(span.name(), started.elapsed());
        }
    }
}
