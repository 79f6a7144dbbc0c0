from django_tenants.utils import schema_context

from inventory.models import Item


def test_tenants_have_their_own_tables(tenant_a, tenant_b):
    with schema_context(tenant_a.schema_name):
        Item.objects.create(sku="ISO-1", name="only in A")
        assert Item.objects.filter(sku="ISO-1").exists()
    with schema_context(tenant_b.schema_name):
        assert not Item.objects.filter(sku="ISO-1").exists()
