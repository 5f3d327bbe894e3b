from django.contrib import admin

from telesante.directory.models import Practice, Practitioner


class PracticeInline(admin.TabularInline):
    model = Practice
    extra = 0
    raw_id_fields = ["structure", "commune"]


@admin.register(Practitioner)
class PractitionerAdmin(admin.ModelAdmin):
    list_display = ["rpps", "last_name", "first_name", "profession", "specialty"]
    search_fields = ["rpps", "last_name"]
    list_filter = ["profession", "specialty"]
    inlines = [PracticeInline]
