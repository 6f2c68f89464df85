"""Use cases; each public function is one SQL transaction."""
