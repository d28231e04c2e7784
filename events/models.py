"""Events, occasions, agendas and registrations arrive with the events issue."""
