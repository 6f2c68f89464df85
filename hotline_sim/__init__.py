"""A simulated Twilio for the terminal, the demo and the tests."""
