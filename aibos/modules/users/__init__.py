"""Users: who the people are, their profiles and their roles."""
