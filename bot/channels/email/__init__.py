"""Email: the newsletter's sender (SMTP pool or Maildir), its signed links, and sign-up mail."""
