//! Business-hours schedules (업무시간).
