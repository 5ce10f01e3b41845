from django.core.management.base import BaseCommand

from aftersales.org.rolesdoc import render_roles_doc


class Command(BaseCommand):
    help = "Print docs/roles.md, generated from the role → permission table."

    def handle(self, *args, **options):
        self.stdout.write(render_roles_doc(), ending="")
