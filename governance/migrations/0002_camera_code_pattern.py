import re

from django.db import migrations, models

import governance.validators

SAFE = re.compile(r"^[A-Za-z0-9_-]+\Z")


def refuse_unsafe_codes(apps, schema_editor):
    """Camera codes now name folders and files: stop, naming them, if any existing code is not letters, digits, - and _.

    Nothing is renamed here: a code is how the recorders and the ledger know a camera, so the centre chooses the
    new codes (in the admin pages or with import_cameras) and runs the migration again.
    """
    Camera = apps.get_model("governance", "Camera")
    unsafe = [code for code in Camera.objects.values_list("code", flat=True).iterator() if not SAFE.match(code)]
    if unsafe:
        shown = ", ".join(repr(code) for code in unsafe[:20])
        raise RuntimeError(
            f"{len(unsafe)} camera code(s) hold characters other than letters, digits, '-' and '_': {shown}. "
            "Rename these cameras, then migrate again."
        )


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(refuse_unsafe_codes, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="camera",
            name="code",
            field=models.CharField(
                help_text="Letters, digits, '-' and '_' only.",
                max_length=40,
                unique=True,
                validators=[governance.validators.validate_camera_code],
                verbose_name="code",
            ),
        ),
    ]
