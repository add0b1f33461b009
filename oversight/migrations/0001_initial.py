"""Oversight reports were first kept by the ledger app (its table audit_report).

This migration takes the model over without touching the table; the next one
renames the table and its constraint to this app's names."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('audit', '0010_verify_actions'),
        ('governance', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Report',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('requested_at', models.DateTimeField(auto_now_add=True, verbose_name='requested at')),
                        ('date_from', models.DateField(verbose_name='from')),
                        ('date_to', models.DateField(verbose_name='to')),
                        ('status', models.CharField(choices=[('pending', 'Waiting'), ('running', 'Being built'), ('ready', 'Ready'), ('failed', 'Failed')], default='pending', max_length=10, verbose_name='status')),
                        ('progress', models.PositiveSmallIntegerField(default=0, verbose_name='progress (%)')),
                        ('stage', models.CharField(blank=True, max_length=40, verbose_name='stage')),
                        ('error', models.TextField(blank=True, verbose_name='failure')),
                        ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='finished at')),
                        ('pdf_path', models.CharField(blank=True, max_length=500, verbose_name='PDF file')),
                        ('pdf_sha256', models.CharField(blank=True, max_length=64, verbose_name='PDF SHA-256')),
                        ('pdf_size', models.PositiveBigIntegerField(default=0, verbose_name='PDF size (bytes)')),
                        ('pages', models.PositiveIntegerField(default=0, verbose_name='pages')),
                        ('csv_path', models.CharField(blank=True, max_length=500, verbose_name='CSV archive')),
                        ('csv_sha256', models.CharField(blank=True, max_length=64, verbose_name='CSV archive SHA-256')),
                        ('releases', models.PositiveIntegerField(default=0, verbose_name='releases in the register')),
                        ('agency', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='governance.agency', verbose_name='agency')),
                        ('area', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='governance.area', verbose_name='area')),
                        ('jurisdiction', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='governance.area', verbose_name='jurisdiction')),
                        ('legal_basis', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='governance.legalbasis', verbose_name='legal basis')),
                        ('requested_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='requested by')),
                    ],
                    options={
                        'verbose_name': 'oversight report',
                        'verbose_name_plural': 'oversight reports',
                        'db_table': 'audit_report',
                        'ordering': ['-requested_at', '-id'],
                        'default_permissions': ('view',),
                        'constraints': [models.CheckConstraint(condition=models.Q(('date_to__gte', models.F('date_from'))), name='audit_report_period_ordered')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
