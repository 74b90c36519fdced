"""The ``hubspot`` connection form in the shape Airflow 3.1 reads it: from the hook's methods.

Airflow 3.2 and later read the form from provider info (``conn-fields``, ``ui-field-behaviour`` in
``get_provider_info``) and never call these. Both are built from that one declaration, so the two forms
cannot drift apart. wtforms and flask-appbuilder are imported only here, when Airflow asks: 3.1's API
server provides stand-ins for them when they are not installed.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_hubspot_assoc.get_provider_info import CONNECTION_FIELDS, UI_FIELD_BEHAVIOUR


def form_widgets() -> dict[str, Any]:
    """One wtforms field per ``conn-fields`` entry: secrets as passwords, whole numbers as integers."""
    from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, BS3TextFieldWidget
    from flask_babel import lazy_gettext
    from wtforms import IntegerField, PasswordField, StringField
    from wtforms.validators import Optional, any_of

    widgets: dict[str, Any] = {}
    for name, spec in CONNECTION_FIELDS.items():
        schema = spec["schema"]
        validators: list[Any] = [Optional()]
        if "enum" in schema:
            validators.append(any_of(schema["enum"]))
        kwargs: dict[str, Any] = {
            "label": lazy_gettext(spec["label"]),
            "validators": validators,
            "description": spec["description"],
            "default": schema.get("default"),
        }
        if schema.get("format") == "password":
            widgets[name] = PasswordField(widget=BS3PasswordFieldWidget(), **kwargs)
        elif "integer" in schema["type"]:
            widgets[name] = IntegerField(widget=BS3TextFieldWidget(), **kwargs)
        else:  # text, and numbers with a fraction (3.1 has no decimal field): the hook parses them
            widgets[name] = StringField(widget=BS3TextFieldWidget(), **kwargs)
    return widgets


def field_behaviour() -> dict[str, Any]:
    """``ui-field-behaviour`` with the hook method's key names (``hidden_fields``...)."""
    return {key.replace("-", "_"): value for key, value in UI_FIELD_BEHAVIOUR.items()}
