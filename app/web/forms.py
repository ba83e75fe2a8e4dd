"""Forms of the hosted pages. They bound and shape input; core decides what is valid."""

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField, SubmitField, TelField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

PASSWORD_MAX = 1024  # core applies the configured maximum; this only bounds the input


class SignupForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    username = StringField("Username (optional)", validators=[Optional(), Length(max=32)])
    first_name = StringField("First name", validators=[Optional(), Length(max=100)])
    last_name = StringField("Last name", validators=[Optional(), Length(max=100)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=PASSWORD_MAX)])
    password_confirm = PasswordField(
        "Confirm password",
        validators=[DataRequired(), EqualTo("password", message="Passwords do not match.")],
    )


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=PASSWORD_MAX)])


class ProfileForm(FlaskForm):
    first_name = StringField("First name", validators=[Optional(), Length(max=100)])
    last_name = StringField("Last name", validators=[Optional(), Length(max=100)])
    username = StringField("Username", validators=[Optional(), Length(max=32)])
    phone = TelField("Phone", validators=[Optional(), Length(max=32)])


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("Current password",
                                     validators=[DataRequired(), Length(max=PASSWORD_MAX)])
    new_password = PasswordField("New password",
                                 validators=[DataRequired(), Length(max=PASSWORD_MAX)])
    new_password_confirm = PasswordField(
        "Confirm new password",
        validators=[DataRequired(), EqualTo("new_password", message="Passwords do not match.")],
    )


class ConfirmForm(FlaskForm):
    """A button with nothing but its CSRF token (log out, end sessions)."""


class EndSessionForm(FlaskForm):
    session_id = HiddenField(validators=[DataRequired()])


class ConsentForm(FlaskForm):
    allow = SubmitField("Allow")
    deny = SubmitField("Deny")


class RevokeAppForm(FlaskForm):
    client_id = HiddenField(validators=[DataRequired()])


class ForgotPasswordForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])


class ResetPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired(), Length(max=PASSWORD_MAX)])
    password_confirm = PasswordField(
        "Confirm new password",
        validators=[DataRequired(), EqualTo("password", message="Passwords do not match.")],
    )


class MagicLinkForm(FlaskForm):
    """The login form's email, posted by its "Email me a sign-in link" button."""

    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])


class MagicLinkLandingForm(FlaskForm):
    """The button on a sign-in link's landing page; `register` is set when the link is a
    sign-up link and the person asks for the account."""

    register = HiddenField()


class VerifyEmailCodeForm(FlaskForm):
    """The 6-digit code from the verification email, typed by its signed-in owner."""

    code = StringField("Code from the email", validators=[DataRequired(), Length(max=16)])
