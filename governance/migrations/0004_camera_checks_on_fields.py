# The camera's checks sit on its fields, so the admin and the CSV import apply the same ones: the ranges the
# import always checked (retention 1 to 3650 days, latitude and longitude in degrees) and the source address rule
# (before, in Camera.clean()). Validators only: no change to the tables.

import django.core.validators
import governance.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('governance', '0003_day_off_and_deadline_unit'),
    ]

    operations = [
        migrations.AlterField(
            model_name='camera',
            name='latitude',
            field=models.DecimalField(blank=True, decimal_places=6, max_digits=9, null=True, validators=[django.core.validators.MinValueValidator(-90), django.core.validators.MaxValueValidator(90)], verbose_name='latitude'),
        ),
        migrations.AlterField(
            model_name='camera',
            name='longitude',
            field=models.DecimalField(blank=True, decimal_places=6, max_digits=9, null=True, validators=[django.core.validators.MinValueValidator(-180), django.core.validators.MaxValueValidator(180)], verbose_name='longitude'),
        ),
        migrations.AlterField(
            model_name='camera',
            name='retention_days',
            field=models.PositiveIntegerField(default=30, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(3650)], verbose_name='retention (days)'),
        ),
        migrations.AlterField(
            model_name='camera',
            name='source_url',
            field=models.CharField(blank=True, help_text='Stream or recorder address without user name or password.', max_length=255, validators=[governance.validators.validate_source_url], verbose_name='source address'),
        ),
    ]
