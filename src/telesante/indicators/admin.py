from django.contrib import admin

from telesante.indicators.models import DeclaredActivity


@admin.register(DeclaredActivity)
class DeclaredActivityAdmin(admin.ModelAdmin):
    list_display = ["professional", "year", "total_acts"]
    raw_id_fields = ["professional"]
    list_filter = ["year"]
