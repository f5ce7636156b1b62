"""What students run: their commands' logic, progress, CI reports and pytest options."""
