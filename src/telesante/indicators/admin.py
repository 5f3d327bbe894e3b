from django.contrib import admin

from telesante.teleconsultation.models import ActivityDeclaration


@admin.register(ActivityDeclaration)
class ActivityDeclarationAdmin(admin.ModelAdmin):
    list_display = ["professional", "year", "total_acts"]
    raw_id_fields = ["professional"]
    list_filter = ["year"]
