//! Business-hours schedules (업무시간): `BusinessHoursService`, and the schedules as trigger
//! evaluation asks them (`Schedule::contains`, loaded by `load_all`).

mod api;
mod store;
mod validate;

pub use self::{api::BusinessHoursApi, store::load_all};
pub use switchboard_platform::business_hours::Schedule;
