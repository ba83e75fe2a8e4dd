"""Messages to a person's mailbox or phone, and the account flows built on them.

The transport: the outbox (rows first, delivered after their request commits by a worker),
its channels mailer (SMTP) and sms (an HTTP gateway), and mail_requests (signed-out
requests carried out after the answer). The flows: one_time_tokens (the links and 6-digit
codes they send), email_verification, password_reset, magic_link and phone_verification.
"""
