//! Sustained IVR pushes for the whole run, each with a deadline, every answer kept with its
//! time so that each phase can be read from the record afterwards.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use tokio::task::JoinSet;

use crate::bench::ivr::{self, Ivr};

/// One push and its answer.
#[derive(Debug, Clone)]
pub struct Push {
    pub sent: Instant,
    pub took: Duration,
    pub call_id: String,
    /// The callback id answered, or the failure's code.
    pub answer: Result<uuid::Uuid, tonic::Code>,
}

pub struct Pushes {
    record: Arc<Mutex<Vec<Push>>>,
    stop: Arc<AtomicBool>,
    workers: JoinSet<()>,
}

impl Pushes {
    /// Starts `concurrency` workers, each pushing its next callback when the last is answered.
    pub fn start(ivr: &Ivr, concurrency: usize, timeout: Duration) -> Self {
        let record = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let mut workers = JoinSet::new();
        for worker in 0..concurrency.max(1) {
            let (ivr, record, stop) = (ivr.clone(), record.clone(), stop.clone());
            workers.spawn(async move {
                let mut sequence = 0;
                while !stop.load(Ordering::Relaxed) {
                    let sent = Instant::now();
                    let answer = ivr.push(worker, sequence, Some(timeout)).await;
                    let push = Push {
                        sent,
                        took: sent.elapsed(),
                        call_id: ivr.call_id(worker, sequence),
                        answer: match answer {
                            Ok(response) => ivr::callback_id(&response).ok_or(tonic::Code::Unknown),
                            // tonic's client answers its own expired deadline with
                            // CANCELLED ("Timeout expired"): counted as the deadline it is.
                            Err(status)
                                if status.code() == tonic::Code::Cancelled
                                    && sent.elapsed() >= timeout =>
                            {
                                Err(tonic::Code::DeadlineExceeded)
                            }
                            Err(status) => Err(status.code()),
                        },
                    };
                    let failed = push.answer.is_err();
                    record.lock().expect("push record").push(push);
                    sequence += 1;
                    if failed {
                        // An IVR would not spin on a server that is down.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            });
        }
        Self {
            record,
            stop,
            workers,
        }
    }

    /// When the first push sent after `from` was answered OK, if one was.
    pub fn first_ok_after(&self, from: Instant) -> Option<Instant> {
        self.record
            .lock()
            .expect("push record")
            .iter()
            .filter(|push| push.sent >= from && push.answer.is_ok())
            .map(|push| push.sent + push.took)
            .min()
    }

    /// Stops the workers, letting the pushes in flight finish.
    pub async fn stop(mut self) -> Vec<Push> {
        self.stop.store(true, Ordering::Relaxed);
        while self.workers.join_next().await.is_some() {}
        std::mem::take(&mut *self.record.lock().expect("push record"))
    }
}
