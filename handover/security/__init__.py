"""Authentication building blocks that the web views and the CLI share.

`passwords` hashes and judges passwords, `totp` checks one-time codes (each accepted once) and
draws the enrolment QR code, `throttle` holds the login rate limits. Nothing here renders pages.
"""
