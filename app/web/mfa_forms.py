"""Forms of the MFA pages (the challenge, re-authentication, /account/security). They bound
and shape input; core decides what a valid code, name or method is."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.web.forms import PASSWORD_MAX

CODE_MAX = 64  # a recovery code with spaces and dashes fits; core checks the shape

METHOD_LABELS = {
    "webauthn": "Passkey or security key",
    "totp": "Authenticator app",
    "email": "Code by email",
    "recovery_code": "Recovery code",
}


class MfaCodeForm(FlaskForm):
    """One factor answered on the challenge page: which method, and its code."""

    method = HiddenField(validators=[DataRequired()])
    code = StringField("Code", validators=[DataRequired(), Length(max=CODE_MAX)])
    remember = BooleanField("Remember this device")


class ReauthForm(FlaskForm):
    """Confirm it is you: the password, or a code from a second factor."""

    password = PasswordField("Password", validators=[Optional(), Length(max=PASSWORD_MAX)])
    method = SelectField("Or use", choices=[SelectChoice(m, METHOD_LABELS[m])
                                            for m in ("totp", "recovery_code")],
                         validate_choice=False)
    code = StringField("Code", validators=[Optional(), Length(max=CODE_MAX)])


class TotpEnableForm(FlaskForm):
    code = StringField("Code from the app", validators=[DataRequired(), Length(max=CODE_MAX)])
    end_others = BooleanField("Sign out my other sessions")


class TotpDisableForm(FlaskForm):
    """Removing the app is proven by a current code or the password."""

    code = StringField("Code from the app", validators=[Optional(), Length(max=CODE_MAX)])
    password = PasswordField("Or your password",
                             validators=[Optional(), Length(max=PASSWORD_MAX)])


class PreferredMethodForm(FlaskForm):
    method = SelectField("Ask me first for", validate_choice=False,
                         validators=[DataRequired()])


class PasskeyRenameForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
