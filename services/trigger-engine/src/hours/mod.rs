//! Business-hours schedules (업무시간): the schedules as trigger evaluation asks them
//! (`Schedule::contains`).

mod schedule;

pub use self::schedule::Schedule;
